namespace ControllerRuntime.Schema;

/// <summary>
/// CRD-level settings of an entity whose group, version, kind and plural come from
/// KubernetesClient's <c>[KubernetesEntity]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CustomResourceAttribute : Attribute
{
    public bool Namespaced { get; init; } = true;

    public string[] ShortNames { get; init; } = [];

    public string[] Categories { get; init; } = [];

    /// <summary>Serve the status subresource (status written only through /status).</summary>
    public bool StatusSubresource { get; init; }
}
