using Greenhouse.Operator.Api;
using Greenhouse.Operator.Health;
using k8s.Models;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>Everything <see cref="StatusBuilder"/> computes the status from.</summary>
public sealed record StatusInputs
{
    public required GreenhouseIntegration Integration { get; init; }

    public required DateTime Now { get; init; }

    /// <summary>Inputs that could not be resolved (nothing was applied).</summary>
    public InputProblem? Problem { get; init; }

    /// <summary>The API server's message when writing an owned object failed.</summary>
    public string? ApplyFailure { get; init; }

    public V1Deployment? Deployment { get; init; }

    /// <summary>Aggregated SyncHealth of the ready pods (null before the first poll or without ready pods).</summary>
    public HealthSummary? Health { get; init; }

    /// <summary>The webhook secret schedule (null when the webhook inputs could not be resolved).</summary>
    public WebhookSecretPlan? Webhook { get; init; }

    /// <summary>The last token request with the Secret's Harvest credentials (null without Harvest).</summary>
    public HarvestValidation? HarvestValidation { get; init; }

    /// <summary>With registration HarvestApi: what registering the webhooks in Greenhouse produced (null: not attempted, status keeps what it recorded).</summary>
    public RegistrationOutcome? Registration { get; init; }

    /// <summary>The Harvest credentials of the Secret were not rolled out (refused or unverifiable); the receivers keep the last working ones.</summary>
    public bool HarvestHeldBack { get; init; }
}
