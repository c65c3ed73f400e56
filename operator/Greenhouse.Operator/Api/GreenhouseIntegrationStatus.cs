using ControllerRuntime;
using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record GreenhouseIntegrationStatus
{
    [Description("The metadata.generation this status describes.")]
    public long? ObservedGeneration { get; init; }

    [Description("The webhook endpoint and its secret.")]
    public WebhookStatus? Webhook { get; init; }

    [Description("The receiver Deployment.")]
    public ReceiverStatus? Receiver { get; init; }

    [Description("Harvest v3 authentication and rate limits, as the receivers report them.")]
    public HarvestStatus? Harvest { get; init; }

    [Description("Sync health aggregated over the receiver pods.")]
    public SyncStatus? Sync { get; init; }

    [ListMapKeys("type")]
    [Description("Ready (summary), ReceiverAvailable, WebhookSecretReady, HarvestAuthenticated, Synced.")]
    public IList<Condition>? Conditions { get; init; }
}
