using Greenhouse.Operator.Api;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// What registering an integration's webhooks in Greenhouse produced, for status: the registrations and the
/// config hash and secret version Greenhouse confirmed (unchanged values when nothing was confirmed this
/// time), a refusal to report, whether registration waits for the receivers, and when to try again.
/// </summary>
public sealed record RegistrationOutcome
{
    public IList<WebhookRegistrationStatus>? Registrations { get; init; }

    public string? RegisteredConfig { get; init; }

    public long? RegisteredSecretVersion { get; init; }

    public DateTime? RegisteredAt { get; init; }

    /// <summary>Greenhouse refused or could not be reached (reason MissingScope, RegistrationRefused or RegistrationFailed).</summary>
    public InputProblem? Problem { get; init; }

    /// <summary>The current secret is not loaded by every receiver pod yet; nothing was sent.</summary>
    public bool AwaitingReceivers { get; init; }

    /// <summary>Webhooks created, updated and deleted by this sync (for the event).</summary>
    public (int Created, int Updated, int Deleted) Changes { get; init; }

    public DateTime? RetryAt { get; init; }

    /// <summary>The registration fields of <paramref name="observed"/>, unchanged.</summary>
    public static RegistrationOutcome Unchanged(WebhookStatus? observed) => new()
    {
        Registrations = observed?.Registrations,
        RegisteredConfig = observed?.RegisteredConfig,
        RegisteredSecretVersion = observed?.RegisteredSecretVersion,
        RegisteredAt = observed?.RegisteredAt,
    };
}
