using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record GreenhouseIntegrationSpec
{
    [Description("Harvest v3 access used to hydrate candidates, run resync sweeps and write activity back. Leave out for a webhook-only receiver.")]
    public HarvestSpec? Harvest { get; init; }

    [Description("Facts about the Greenhouse account that downstream consumers need.")]
    public GreenhouseAccountSpec? Greenhouse { get; init; }

    [Required]
    [Description("The webhook endpoint Greenhouse posts to, and how deliveries are authenticated.")]
    public WebhookSpec Webhook { get; init; } = new();

    [DefaultEmptyObject]
    [Description("The receiver Deployment.")]
    public ReceiverSpec? Receiver { get; init; }

    [DefaultEmptyObject]
    [Description("Who may call the receiver's candidate APIs (gRPC on 8081, JSON on 8082).")]
    public ApiSpec? Api { get; init; }

    [DefaultEmptyObject]
    [Description("How often Harvest sweeps repair what webhooks missed.")]
    public SyncSpec? Sync { get; init; }

    [DefaultEmptyObject]
    [Description("Persistent volume for the receiver's inbox and candidate mirror.")]
    public StorageSpec? Storage { get; init; }

    [Default(false)]
    [Description("Scale the receiver to zero replicas while keeping its data and secrets. Greenhouse deliveries fail (and are retried by Greenhouse for about 15 hours) while suspended.")]
    public bool Suspend { get; init; }
}
