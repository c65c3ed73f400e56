using k8s;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>Maps an owned object to the key of the object that controls it.</summary>
public static class OwnerMapping
{
    public static IEnumerable<ObjectKey> ControllerOf(IKubernetesObject<V1ObjectMeta> obj, string ownerApiVersion, string ownerKind)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var owner = obj.Metadata.OwnerReferences?.FirstOrDefault(r => r.Controller == true && r.Kind == ownerKind && r.ApiVersion == ownerApiVersion);
        return owner is null ? [] : [new ObjectKey(obj.Metadata.NamespaceProperty ?? "", owner.Name)];
    }
}
