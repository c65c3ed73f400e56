namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// What the reconciler read or decided outside the pure builder: secret values from the user's
/// Secrets (or the operator's generated webhook secret).
/// </summary>
public sealed record ResolvedInputs
{
    /// <summary>Current webhook secret key.</summary>
    public required ReadOnlyMemory<byte> WebhookSecret { get; init; }

    /// <summary>Previous webhook secret key, still accepted for an overlap window.</summary>
    public ReadOnlyMemory<byte>? PreviousWebhookSecret { get; init; }

    /// <summary>Harvest client credentials; null when the integration does not use Harvest.</summary>
    public HarvestCredentials? Harvest { get; init; }

    /// <summary>Annotations of the effective webhook Secret (the rotation schedule written with the values).</summary>
    public IDictionary<string, string>? WebhookSecretAnnotations { get; init; }

    /// <summary>Basic-auth user and password; null when the webhook uses none.</summary>
    public BasicAuthCredentials? BasicAuth { get; init; }
}
