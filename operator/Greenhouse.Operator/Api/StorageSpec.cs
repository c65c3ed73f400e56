using ControllerRuntime.Schema;
using k8s.Models;

namespace Greenhouse.Operator.Api;

public sealed record StorageSpec
{
    [Default("1Gi")]
    [Description("Size of the receiver's PersistentVolumeClaim. Can grow later when the storage class allows expansion.")]
    public ResourceQuantity? Size { get; init; }

    [Description("StorageClass of the PersistentVolumeClaim; the cluster default when absent.")]
    public string? StorageClassName { get; init; }
}
