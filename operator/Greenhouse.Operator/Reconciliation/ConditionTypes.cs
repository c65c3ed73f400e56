namespace Greenhouse.Operator.Reconciliation;

/// <summary>Condition types of a GreenhouseIntegration's status.</summary>
public static class ConditionTypes
{
    /// <summary>Summary: what the spec declares is in effect (ReceiverAvailable, WebhookSecretReady, HarvestAuthenticated).</summary>
    public const string Ready = "Ready";

    /// <summary>The receiver Deployment has its desired pods available.</summary>
    public const string ReceiverAvailable = "ReceiverAvailable";

    /// <summary>The webhook secret exists, and a rotated one was adopted (or is within its grace period).</summary>
    public const string WebhookSecretReady = "WebhookSecretReady";

    /// <summary>The Harvest credentials obtain tokens with the scopes the receiver needs (True/Disabled without Harvest).</summary>
    public const string HarvestAuthenticated = "HarvestAuthenticated";

    /// <summary>The mirror keeps up: events processed, sweeps succeed, nothing stale.</summary>
    public const string Synced = "Synced";
}
