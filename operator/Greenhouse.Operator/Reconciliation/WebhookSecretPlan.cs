using Greenhouse.Operator.Api;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>What <see cref="WebhookSecretRotation"/> decided: the secrets to roll out and the status that describes them.</summary>
public sealed record WebhookSecretPlan
{
    public required ReadOnlyMemory<byte> Current { get; init; }

    public ReadOnlyMemory<byte>? Previous { get; init; }

    /// <summary>status.webhook without the URL.</summary>
    public required WebhookStatus Status { get; init; }

    /// <summary>A new secret was generated (first reconcile or rotation) or the user's secret changed.</summary>
    public bool Changed { get; init; }

    /// <summary>Why the secret changed: Created, Interval, Annotation or SecretRefChanged (null when unchanged).</summary>
    public string? Trigger { get; init; }

    /// <summary>A rotated secret saw no verified delivery within the grace period (the previous one is kept).</summary>
    public bool NotAdopted { get; init; }

    /// <summary>The next moment the plan changes by itself (rotation due, grace over, previous dropped).</summary>
    public DateTime? NextDeadline { get; init; }
}
