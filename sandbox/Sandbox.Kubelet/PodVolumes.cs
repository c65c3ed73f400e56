using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>
/// The local folders behind a pod's volumes: Secret and ConfigMap volumes written with the atomic-writer
/// layout and rewritten when their source changes, emptyDir as a folder of the pod, a
/// PersistentVolumeClaim as a folder per claim that outlives the pod, hostPath as itself.
/// </summary>
internal sealed class PodVolumes
{
    private const UnixFileMode DefaultMode = (UnixFileMode)0x1A4; // 0644, the API's default
    private readonly V1Pod pod;
    private readonly Dictionary<string, string> paths = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AtomicVolumeWriter> writers = new(StringComparer.Ordinal);

    public PodVolumes(V1Pod pod, string podDirectory, string claimsDirectory, TimeProvider time)
    {
        this.pod = pod;
        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            var folder = Path.Combine(podDirectory, "volumes", volume.Name);
            if (volume.Secret is not null || volume.ConfigMap is not null)
            {
                writers[volume.Name] = new AtomicVolumeWriter(folder, time);
                paths[volume.Name] = folder;
            }
            else if (volume.EmptyDir is not null)
            {
                paths[volume.Name] = folder;
            }
            else if (volume.PersistentVolumeClaim is { } claim)
            {
                paths[volume.Name] = Path.Combine(claimsDirectory, pod.Namespace(), claim.ClaimName);
            }
            else if (volume.HostPath is { } hostPath)
            {
                paths[volume.Name] = hostPath.Path;
            }
            else
            {
                throw new PodSetupException("UnsupportedVolume", $"volume \"{volume.Name}\" has a type the sandbox kubelet does not support (secret, configMap, emptyDir, persistentVolumeClaim and hostPath are)");
            }
        }
    }

    /// <summary>The PersistentVolumeClaims the pod mounts: volume name and claim name.</summary>
    public IEnumerable<(string Volume, string Claim)> Claims =>
        (pod.Spec.Volumes ?? []).Where(v => v.PersistentVolumeClaim is not null).Select(v => (v.Name, v.PersistentVolumeClaim.ClaimName));

    /// <summary>Local folder of a volume, or null for an unknown volume name.</summary>
    public string? PathOf(string volumeName) => paths.GetValueOrDefault(volumeName);

    /// <summary>Creates folders and writes Secret/ConfigMap content that changed; throws <see cref="PodSetupException"/> for a missing required source.</summary>
    public void Sync(ClusterSnapshot cluster)
    {
        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            if (writers.TryGetValue(volume.Name, out var writer))
            {
                writer.Write(Project(volume, cluster));
            }
            else if (volume.HostPath is null)
            {
                Directory.CreateDirectory(paths[volume.Name]);
            }
        }
    }

    private List<ProjectedFile> Project(V1Volume volume, ClusterSnapshot cluster)
    {
        var ns = pod.Namespace();
        string kind, name;
        bool optional;
        IList<V1KeyToPath>? items;
        int? defaultMode;
        IDictionary<string, byte[]>? data;
        if (volume.Secret is { } secret)
        {
            (kind, name, optional, items, defaultMode) = ("Secret", secret.SecretName, secret.Optional == true, secret.Items, secret.DefaultMode);
            data = cluster.Secret(ns, name);
        }
        else
        {
            var configMap = volume.ConfigMap!;
            (kind, name, optional, items, defaultMode) = ("ConfigMap", configMap.Name, configMap.Optional == true, configMap.Items, configMap.DefaultMode);
            data = cluster.ConfigMap(ns, name);
        }

        if (data is null)
        {
            return optional ? [] : throw new PodSetupException("FailedMount", $"{kind} \"{name}\" for volume \"{volume.Name}\" not found");
        }

        var mode = defaultMode is { } m ? (UnixFileMode)m : DefaultMode;
        var files = new List<ProjectedFile>();
        if (items is null or { Count: 0 })
        {
            files.AddRange(data.Select(kv => new ProjectedFile(kv.Key, kv.Value, mode)));
            return files;
        }

        foreach (var item in items)
        {
            if (data.TryGetValue(item.Key, out var content))
            {
                files.Add(new ProjectedFile(item.Path, content, item.Mode is { } itemMode ? (UnixFileMode)itemMode : mode));
            }
            else if (!optional)
            {
                throw new PodSetupException("FailedMount", $"key \"{item.Key}\" of {kind} \"{name}\" for volume \"{volume.Name}\" not found");
            }
        }

        return files;
    }
}
