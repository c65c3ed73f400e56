using k8s;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>Identity of a namespaced (or cluster-scoped, with an empty namespace) object: the work queue's key.</summary>
public readonly record struct ObjectKey(string Namespace, string Name)
{
    public static ObjectKey Of(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return new ObjectKey(obj.Metadata.NamespaceProperty ?? "", obj.Metadata.Name);
    }

    public override string ToString() => string.IsNullOrEmpty(Namespace) ? Name : $"{Namespace}/{Name}";
}
