using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record ReceiverStatus
{
    [Description("Receiver pods that exist.")]
    public int? Replicas { get; init; }

    [Description("Receiver pods that are ready.")]
    public int? ReadyReplicas { get; init; }

    [Description("Image the receiver runs.")]
    public string? Image { get; init; }
}
