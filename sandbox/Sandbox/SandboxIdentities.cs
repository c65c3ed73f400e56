using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Sandbox.KubeApi;

namespace Sandbox;

/// <summary>
/// Kubeconfigs for identities other than the admin: a ServiceAccount (created with its namespace when missing) with a
/// token minted by the emulator, written as kubeconfig-NS-NAME next to the admin kubeconfig.
/// </summary>
internal static class SandboxIdentities
{
    /// <summary>
    /// Lifetime of the tokens in these kubeconfigs. A kubelet would rotate an hour-long projected token; a kubeconfig
    /// cannot, so the token outlives any sandbox session instead (the signing key dies with the emulator anyway).
    /// </summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(24);

    public static string KubeconfigPath(string adminKubeconfig, string ns, string name) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(adminKubeconfig))!, $"kubeconfig-{ns}-{name}");

    /// <summary>Creates the ServiceAccount if needed and writes its kubeconfig; returns the file's path.</summary>
    public static async Task<string> CreateServiceAccountKubeconfigAsync(KubeApiServer server, string ns, string name, string adminKubeconfig, CancellationToken cancellationToken)
    {
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(new MemoryStream(Encoding.UTF8.GetBytes(server.KubeconfigYaml))));
        await IgnoreExistingAsync(() => client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await IgnoreExistingAsync(() => client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = name } }, ns, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var path = KubeconfigPath(adminKubeconfig, ns, name);
        await server.WriteServiceAccountKubeconfigAsync(ns, name, path, TokenLifetime, cancellationToken).ConfigureAwait(false);
        return path;
    }

    private static async Task IgnoreExistingAsync<T>(Func<Task<T>> create)
    {
        try
        {
            await create().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Exists already.
        }
    }
}
