using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Greenhouse.Operator;

/// <summary>
/// Reads a kubeconfig file (KUBECONFIG) with a YAML deserializer of its own. The client library's
/// reader first builds a map of every model type in its assembly (about 9 MB of its metadata read
/// and a type loaded for each model), memory an operator that only needs a handful of kinds
/// keeps for its whole life. In a cluster the operator uses its ServiceAccount and reads no YAML.
/// </summary>
internal static class Kubeconfig
{
    public static KubernetesClientConfiguration Load(string path)
    {
        K8SConfiguration? config;
        try
        {
            using var reader = new StreamReader(path);
            config = new DeserializerBuilder().IgnoreUnmatchedProperties().Build().Deserialize<K8SConfiguration>(reader);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or YamlException)
        {
            throw new KubeConfigException($"kubeconfig {path} cannot be read: {ex.Message}");
        }
        if (config is null)
        {
            throw new KubeConfigException($"kubeconfig {path} is empty");
        }
        config.FileName = path;
        return KubernetesClientConfiguration.BuildConfigFromConfigObject(config);
    }
}
