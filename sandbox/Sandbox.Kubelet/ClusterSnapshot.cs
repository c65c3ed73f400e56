using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>What one sync listed from the API server, looked up by namespace and name.</summary>
internal sealed class ClusterSnapshot(IEnumerable<V1Secret> secrets, IEnumerable<V1ConfigMap> configMaps)
{
    private readonly Dictionary<(string, string), V1Secret> secrets = secrets.ToDictionary(s => (s.Namespace(), s.Name()));
    private readonly Dictionary<(string, string), V1ConfigMap> configMaps = configMaps.ToDictionary(c => (c.Namespace(), c.Name()));

    public static ClusterSnapshot Empty { get; } = new([], []);

    /// <summary>Secret data, or null when the Secret does not exist.</summary>
    public IDictionary<string, byte[]>? Secret(string ns, string name) =>
        secrets.TryGetValue((ns, name), out var secret) ? secret.Data ?? new Dictionary<string, byte[]>() : null;

    /// <summary>ConfigMap data and binaryData as bytes, or null when the ConfigMap does not exist.</summary>
    public IDictionary<string, byte[]>? ConfigMap(string ns, string name)
    {
        if (!configMaps.TryGetValue((ns, name), out var configMap))
        {
            return null;
        }

        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in configMap.Data ?? new Dictionary<string, string>())
        {
            data[key] = System.Text.Encoding.UTF8.GetBytes(value);
        }

        foreach (var (key, value) in configMap.BinaryData ?? new Dictionary<string, byte[]>())
        {
            data[key] = value;
        }

        return data;
    }
}
