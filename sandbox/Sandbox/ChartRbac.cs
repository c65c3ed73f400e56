using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Sandbox;

/// <summary>
/// The operator's identity in <c>sandbox run --rbac</c>: renders the Helm chart as an install would
/// (<c>helm template</c>, the helm that <c>make tools</c> installs), applies its ServiceAccount, ClusterRoles, Roles and
/// bindings to the emulator, and returns the ServiceAccount the operator runs as. The rest of the chart (Deployment,
/// Service, ...) is not applied: the sandbox runs the operator as a process.
/// </summary>
internal static class ChartRbac
{
    public const string Release = "greenhouse-operator";

    public static string HelmPath => Path.Combine(SandboxLayout.RepositoryRoot, ".tools", "node_modules", ".bin", "helm");

    /// <summary>Renders and applies the chart's RBAC; returns the ServiceAccount's name (in <paramref name="ns"/>).</summary>
    public static async Task<string> ApplyAsync(Kubernetes client, string ns, CancellationToken cancellationToken)
    {
        var rendered = await RenderAsync(ns, cancellationToken).ConfigureAwait(false);
        string? serviceAccount = null;
        foreach (var item in IdentityDocuments(rendered))
        {
            switch (item)
            {
                case V1ServiceAccount sa:
                    serviceAccount = sa.Metadata.Name;
                    await IgnoreExistingAsync(() => client.CoreV1.CreateNamespacedServiceAccountAsync(sa, sa.Metadata.NamespaceProperty ?? ns, cancellationToken: cancellationToken)).ConfigureAwait(false);
                    break;
                case V1ClusterRole role:
                    await client.RbacAuthorizationV1.CreateClusterRoleAsync(role, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case V1ClusterRoleBinding binding:
                    await client.RbacAuthorizationV1.CreateClusterRoleBindingAsync(binding, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case V1Role role:
                    await EnsureNamespaceAsync(client, role.Metadata.NamespaceProperty ?? ns, cancellationToken).ConfigureAwait(false);
                    await client.RbacAuthorizationV1.CreateNamespacedRoleAsync(role, role.Metadata.NamespaceProperty ?? ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case V1RoleBinding binding:
                    await EnsureNamespaceAsync(client, binding.Metadata.NamespaceProperty ?? ns, cancellationToken).ConfigureAwait(false);
                    await client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(binding, binding.Metadata.NamespaceProperty ?? ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        return serviceAccount ?? throw new InvalidOperationException("the chart rendered no ServiceAccount (serviceAccount.create is false?): the operator has no identity to run as");
    }

    /// <summary>The ServiceAccount and RBAC objects of a multi-document YAML; other kinds (Deployment, ServiceMonitor, ...) are skipped unparsed.</summary>
    private static IEnumerable<object> IdentityDocuments(string yaml)
    {
        foreach (var document in Regex.Split(yaml, @"^---\s*$", RegexOptions.Multiline))
        {
            var kind = Regex.Match(document, @"^kind:\s*(\S+)", RegexOptions.Multiline).Groups[1].Value;
            yield return kind switch
            {
                "ServiceAccount" => KubernetesYaml.Deserialize<V1ServiceAccount>(document),
                "ClusterRole" => KubernetesYaml.Deserialize<V1ClusterRole>(document),
                "ClusterRoleBinding" => KubernetesYaml.Deserialize<V1ClusterRoleBinding>(document),
                "Role" => KubernetesYaml.Deserialize<V1Role>(document),
                "RoleBinding" => KubernetesYaml.Deserialize<V1RoleBinding>(document),
                _ => document,
            };
        }
    }

    private static async Task<string> RenderAsync(string ns, CancellationToken cancellationToken)
    {
        if (!File.Exists(HelmPath))
        {
            throw new InvalidOperationException($"helm is not installed at {HelmPath}: run `make tools` first (--rbac renders the chart's RBAC with helm template)");
        }

        var start = new ProcessStartInfo(HelmPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = SandboxLayout.RepositoryRoot,
        };
        foreach (var argument in new[] { "template", Release, Path.Combine(SandboxLayout.RepositoryRoot, "charts", "greenhouse-operator"), "--namespace", ns })
        {
            start.ArgumentList.Add(argument);
        }

        using var helm = Process.Start(start) ?? throw new InvalidOperationException("helm did not start");
        var stdout = helm.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = helm.StandardError.ReadToEndAsync(cancellationToken);
        await helm.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return helm.ExitCode == 0
            ? await stdout.ConfigureAwait(false)
            : throw new InvalidOperationException($"helm template failed ({helm.ExitCode}): {await stderr.ConfigureAwait(false)}");
    }

    private static Task EnsureNamespaceAsync(Kubernetes client, string ns, CancellationToken cancellationToken) =>
        IgnoreExistingAsync(() => client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } }, cancellationToken: cancellationToken));

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
