using ControllerRuntime.Schema;
using k8s.Models;

namespace Greenhouse.Operator.Api;

public sealed record ReceiverSpec
{
    [Minimum(1)]
    [Maximum(10)]
    [Default(1)]
    [Description("Number of receiver pods. More than one adds a PodDisruptionBudget.")]
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
