using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>
/// Turns a container spec into a local process start: the image's command, the container's args,
/// its environment (envFrom, env, valueFrom), and the translations a pod needs on a shared host:
/// every mountPath becomes the local folder of its volume and the all-interfaces address
/// (<c>0.0.0.0</c>, <c>[::]</c>) becomes the pod IP, in args and env values alike. The projected
/// ServiceAccount folder counts as mounted at <see cref="ServiceAccountVolume.MountPath"/>, and every
/// container gets <c>KUBERNETES_SERVICE_HOST</c>/<c>KUBERNETES_SERVICE_PORT</c> as in a real cluster.
/// </summary>
internal static class ContainerLaunch
{
    // envFrom keys that are not valid variable names are skipped, as the kubelet does.
    private static readonly Regex EnvName = new("^[-._a-zA-Z][-._a-zA-Z0-9]*$", RegexOptions.CultureInvariant);

    // Inside a pod "every interface" is the pod's own address.
    private static readonly Regex AllInterfaces = new(@"(?<=^|[=/@,;\s])(0\.0\.0\.0|\[::\])(?=$|[:/,;\s])", RegexOptions.CultureInvariant);

    public static ProcessStartInfo Build(V1Pod pod, V1Container container, string podIp, PodVolumes volumes, string? serviceAccountDirectory, ClusterSnapshot cluster, LocalKubeletOptions options, string workingDirectory)
    {
        var image = options.Images.FirstOrDefault(i => i.Matches(container.Image ?? ""))
            ?? throw new PodSetupException("ErrImagePull", $"image \"{container.Image}\" has no local command; map it in the kubelet's image table");
        if (image.MissingFile() is { } missing)
        {
            throw new PodSetupException("ErrImagePull", $"image \"{container.Image}\" runs {missing}, which does not exist; build it first (dotnet build)");
        }

        var rewrite = Rewrites(container, volumes, serviceAccountDirectory, podIp);
        var start = new ProcessStartInfo(container.Command is { Count: > 0 } command ? command[0] : image.FileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = workingDirectory,
        };
        // The image's own command is a path on this machine, not in the container: only what the pod
        // spec says (command, args) is translated, or a checkout under a mounted path such as /tmp
        // would be rewritten into the pod's volume folder.
        var arguments = container.Command is { Count: > 0 } c
            ? c.Skip(1).Select(rewrite)
            : image.Arguments;
        foreach (var argument in arguments.Concat((container.Args ?? []).Select(rewrite)))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in options.Environment)
        {
            start.Environment[key] = value;
        }

        // The image's own ENV (e.g. a path under the ServiceAccount mount), translated like the pod's.
        foreach (var (key, value) in image.Environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = rewrite(value);
        }

        // The kubelet's service variables for the API server; the pod's own env wins.
        if (options.ApiServer is { } apiServer)
        {
            start.Environment["KUBERNETES_SERVICE_HOST"] = apiServer.Host;
            start.Environment["KUBERNETES_SERVICE_PORT"] = apiServer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["KUBERNETES_SERVICE_PORT_HTTPS"] = apiServer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in Environment(pod, container, podIp, cluster))
        {
            start.Environment[key] = rewrite(value);
        }

        return start;
    }

    /// <summary>The container's environment as the kubelet computes it: envFrom in order, then env (later wins).</summary>
    internal static Dictionary<string, string> Environment(V1Pod pod, V1Container container, string podIp, ClusterSnapshot cluster)
    {
        var ns = pod.Namespace();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            var (kind, name, optional, data) = source.SecretRef is { } secretRef
                ? ("Secret", secretRef.Name, secretRef.Optional == true, cluster.Secret(ns, secretRef.Name))
                : ("ConfigMap", source.ConfigMapRef.Name, source.ConfigMapRef.Optional == true, cluster.ConfigMap(ns, source.ConfigMapRef.Name));
            if (data is null)
            {
                if (optional)
                {
                    continue;
                }

                throw new PodSetupException("CreateContainerConfigError", $"{kind.ToLowerInvariant()} \"{name}\" not found");
            }

            foreach (var (key, value) in data)
            {
                var variable = (source.Prefix ?? "") + key;
                if (EnvName.IsMatch(variable))
                {
                    result[variable] = Encoding.UTF8.GetString(value);
                }
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            if (variable.ValueFrom is null)
            {
                result[variable.Name] = Expand(variable.Value ?? "", result);
                continue;
            }

            var value = ValueFrom(pod, variable, podIp, cluster);
            if (value is not null)
            {
                result[variable.Name] = value;
            }
        }

        return result;
    }

    private static string? ValueFrom(V1Pod pod, V1EnvVar variable, string podIp, ClusterSnapshot cluster)
    {
        var ns = pod.Namespace();
        var from = variable.ValueFrom;
        if (from.SecretKeyRef is { } secretKey)
        {
            return Key("secret", secretKey.Name, secretKey.Key, secretKey.Optional == true, cluster.Secret(ns, secretKey.Name));
        }

        if (from.ConfigMapKeyRef is { } configMapKey)
        {
            return Key("configmap", configMapKey.Name, configMapKey.Key, configMapKey.Optional == true, cluster.ConfigMap(ns, configMapKey.Name));
        }

        if (from.FieldRef is { } field)
        {
            return field.FieldPath switch
            {
                "metadata.name" => pod.Name(),
                "metadata.namespace" => ns,
                "metadata.uid" => pod.Uid(),
                "spec.nodeName" => pod.Spec.NodeName,
                "status.podIP" or "status.hostIP" => podIp,
                _ => throw new PodSetupException("CreateContainerConfigError", $"env {variable.Name}: fieldRef {field.FieldPath} is not supported by the sandbox kubelet"),
            };
        }

        throw new PodSetupException("CreateContainerConfigError", $"env {variable.Name}: this valueFrom source is not supported by the sandbox kubelet");
    }

    private static string? Key(string kind, string name, string key, bool optional, IDictionary<string, byte[]>? data)
    {
        if (data is not null && data.TryGetValue(key, out var value))
        {
            return Encoding.UTF8.GetString(value);
        }

        return optional ? null : throw new PodSetupException("CreateContainerConfigError", data is null ? $"{kind} \"{name}\" not found" : $"couldn't find key {key} in {kind} \"{name}\"");
    }

    // $(VAR) references to variables defined earlier, as the kubelet expands them; $$ escapes.
    private static string Expand(string value, Dictionary<string, string> defined) =>
        value.Contains('$', StringComparison.Ordinal)
            ? Regex.Replace(value, @"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)", m => m.Value == "$$" ? "$" : defined.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value)
            : value;

    private static Func<string, string> Rewrites(V1Container container, PodVolumes volumes, string? serviceAccountDirectory, string podIp)
    {
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (serviceAccountDirectory is not null)
        {
            mounts[ServiceAccountVolume.MountPath] = serviceAccountDirectory;
        }

        foreach (var mount in container.VolumeMounts ?? [])
        {
            var local = volumes.PathOf(mount.Name)
                ?? throw new PodSetupException("CreateContainerConfigError", $"volumeMount \"{mount.Name}\" names no volume of the pod");
            if (!string.IsNullOrEmpty(mount.SubPath))
            {
                local = Path.Combine(local, mount.SubPath);
            }

            var from = mount.MountPath.TrimEnd('/');
            if (from.Length > 0)
            {
                mounts[from] = local;
            }
        }

        // One pass, longest mount path first (so /data/cache wins over /data), whole path segments only.
        var mountPattern = mounts.Count == 0
            ? null
            : new Regex(
                @"(?<=^|[=:,;\s""'])(" + string.Join('|', mounts.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)) + @")(?=$|[/,;:\s""'])",
                RegexOptions.CultureInvariant);
        return value =>
        {
            if (mountPattern is not null)
            {
                value = mountPattern.Replace(value, m => mounts[m.Value]);
            }

            return AllInterfaces.Replace(value, podIp.Replace("$", "$$", StringComparison.Ordinal));
        };
    }
}
