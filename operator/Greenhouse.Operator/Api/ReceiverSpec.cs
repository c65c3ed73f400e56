using ControllerRuntime.Schema;
using k8s.Models;

namespace Greenhouse.Operator.Api;

public sealed record ReceiverSpec
{
    [Minimum(1)]
    [Maximum(1)]
    [Default(1)]
    [Description("Number of receiver pods: 1 while the receiver stores its data on a ReadWriteOnce volume (two processes must never share it; rollouts use the Recreate strategy). A shared store will lift the limit.")]
    public int? Replicas { get; init; }

    [Description("Receiver container image; the operator's default receiver image when absent.")]
    public string? Image { get; init; }

    [Description("CPU and memory requests and limits of the receiver container; defaults apply to whatever is left out.")]
    public ResourcesSpec? Resources { get; init; }

    [Description("Node labels the receiver pods must run on.")]
    public IDictionary<string, string>? NodeSelector { get; init; }

    [Description("Tolerations of the receiver pods (core/v1 Toleration).")]
    public IList<V1Toleration>? Tolerations { get; init; }
}
