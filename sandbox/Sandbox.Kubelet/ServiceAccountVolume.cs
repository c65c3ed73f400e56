using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>
/// The pod's projected ServiceAccount volume, as the ServiceAccount admission plugin and the kubelet make it
/// (<c>kube-api-access-*</c> at <see cref="MountPath"/>): <c>token</c> minted by a TokenRequest bound to the pod
/// for the API server's audience, <c>ca.crt</c> and <c>namespace</c>, refreshed after 80 % of the token's
/// lifetime. None when the pod (or, if the pod says nothing, its ServiceAccount) sets
/// <c>automountServiceAccountToken: false</c>, when a container mounts something else there, or when the
/// ServiceAccount does not exist (a real API server refuses such a pod; the sandbox runs it without a token).
/// </summary>
internal sealed class ServiceAccountVolume(V1Pod pod, string podDirectory, TimeProvider time)
{
    /// <summary>Where every in-cluster client looks for the token, the CA bundle and the namespace.</summary>
    public const string MountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    private const long TokenSeconds = 3607; // what the kubelet asks for
    private const UnixFileMode FileMode = (UnixFileMode)0x1A4; // 0644, the projected volume's default
    private readonly AtomicVolumeWriter writer = new(Path.Combine(podDirectory, "volumes", "kube-api-access"), time);
    private DateTimeOffset refreshAt = DateTimeOffset.MinValue;
    private bool? wanted;

    /// <summary>The local folder standing in for <see cref="MountPath"/> once a token was written, else null.</summary>
    public string? Directory { get; private set; }

    /// <summary>Mints (or renews) the token when due and writes the volume; a no-op when the pod gets no token.</summary>
    public async Task SyncAsync(IKubernetes client, string? certificateAuthorityPem, CancellationToken token)
    {
        var now = time.GetUtcNow();
        if (wanted == false || now < refreshAt)
        {
            return;
        }

        var ns = pod.Namespace();
        var serviceAccount = string.IsNullOrEmpty(pod.Spec.ServiceAccountName) ? "default" : pod.Spec.ServiceAccountName;
        if (wanted is null)
        {
            wanted = await WantedAsync(client, ns, serviceAccount, token).ConfigureAwait(false);
            if (wanted == false)
            {
                return;
            }
        }

        var answer = await client.CoreV1.CreateNamespacedServiceAccountTokenAsync(
            new Authenticationv1TokenRequest
            {
                ApiVersion = "authentication.k8s.io/v1",
                Kind = "TokenRequest",
                Spec = new V1TokenRequestSpec
                {
                    Audiences = [], // the API server's own audience
                    ExpirationSeconds = TokenSeconds,
                    BoundObjectRef = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Pod", Name = pod.Name(), Uid = pod.Uid() },
                },
            },
            serviceAccount,
            ns,
            cancellationToken: token).ConfigureAwait(false);
        var expires = answer.Status.ExpirationTimestamp is { } e ? new DateTimeOffset(DateTime.SpecifyKind(e, DateTimeKind.Utc)) : now.AddSeconds(TokenSeconds);
        refreshAt = now + (expires - now) * 0.8;
        var files = new List<ProjectedFile>
        {
            new("token", Encoding.UTF8.GetBytes(answer.Status.Token), FileMode),
            new("namespace", Encoding.UTF8.GetBytes(ns), FileMode),
        };
        if (certificateAuthorityPem is not null)
        {
            files.Add(new("ca.crt", Encoding.UTF8.GetBytes(certificateAuthorityPem), FileMode));
        }

        writer.Write(files);
        Directory = writer.Directory;
    }

    private async Task<bool> WantedAsync(IKubernetes client, string ns, string serviceAccount, CancellationToken token)
    {
        if (pod.Spec.AutomountServiceAccountToken == false
            || pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).Any(c => (c.VolumeMounts ?? []).Any(m => m.MountPath.TrimEnd('/') == MountPath)))
        {
            return false;
        }

        try
        {
            var account = await client.CoreV1.ReadNamespacedServiceAccountAsync(serviceAccount, ns, cancellationToken: token).ConfigureAwait(false);
            return pod.Spec.AutomountServiceAccountToken == true || account.AutomountServiceAccountToken != false;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }
}
