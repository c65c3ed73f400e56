using System.Reflection;
using k8s;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>Group, version, plural and kind of a model type, read from its <see cref="KubernetesEntityAttribute"/>.</summary>
public sealed record ResourcePath(string Group, string Version, string Plural, string Kind)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public static ResourcePath Of<T>()
        where T : IKubernetesObject => Of(typeof(T));

    public static ResourcePath Of(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var entity = type.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{type.Name} has no KubernetesEntity attribute");
        return new ResourcePath(entity.Group ?? "", entity.ApiVersion, entity.PluralName, entity.Kind);
    }
}
