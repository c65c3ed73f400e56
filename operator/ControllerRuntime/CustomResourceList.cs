using k8s;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>List envelope of a custom resource kind.</summary>
public sealed class CustomResourceList<T> : IKubernetesObject<V1ListMeta>, IItems<T>
    where T : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";

    public string Kind { get; set; } = "";

    public V1ListMeta Metadata { get; set; } = new();

    public IList<T> Items { get; set; } = [];
}
