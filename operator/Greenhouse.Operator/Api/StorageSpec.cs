using ControllerRuntime.Schema;
using k8s.Models;

namespace Greenhouse.Operator.Api;

[ValidationRule("has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)", "storageClassName is immutable: the PersistentVolumeClaim keeps its class")]
[ValidationRule("!has(self.size) || !has(oldSelf.size) || quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0", "size may grow but never shrink")]
public sealed record StorageSpec
{
    [Default("1Gi")]
    [Description("Size of the receiver's PersistentVolumeClaim. Can grow later when the storage class allows expansion; never shrink.")]
    public ResourceQuantity? Size { get; init; }

    [Pattern(ResourceNames.DnsSubdomainPattern)]
    [MaxLength(253)]
    [Description("StorageClass of the PersistentVolumeClaim; the cluster default when absent. Cannot change after creation.")]
    public string? StorageClassName { get; init; }
}
