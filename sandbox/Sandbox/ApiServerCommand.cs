using System.Globalization;
using Sandbox.KubeApi;

namespace Sandbox;

/// <summary>
/// <c>sandbox apiserver [--port 6443] [--kubeconfig PATH] [--rbac] [--service-account NS/NAME]...</c>: runs the Kubernetes
/// API emulator until Ctrl-C. With --rbac it enforces RBAC (and the owner-reference permission checks); each --service-account is created (with its namespace)
/// and gets a kubeconfig with a minted token next to the admin one (kubeconfig-NS-NAME).
/// </summary>
internal static class ApiServerCommand
{
    public const string Usage = "apiserver [--port N] [--kubeconfig PATH] [--rbac] [--service-account NS/NAME]...";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var port = 6443;
        var kubeconfig = Path.Combine(Directory.GetCurrentDirectory(), ".run", "kubeconfig");
        var rbac = false;
        var serviceAccounts = new List<(string Namespace, string Name)>();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--rbac":
                    rbac = true;
                    continue;
                case "--service-account" when value?.Split('/') is [{ Length: > 0 } ns, { Length: > 0 } name]:
                    serviceAccounts.Add((ns, name));
                    break;
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= 65535:
                    port = p;
                    break;
                case "--kubeconfig" when !string.IsNullOrWhiteSpace(value):
                    kubeconfig = Path.GetFullPath(value);
                    break;
                default:
                    await Console.Error.WriteLineAsync($"apiserver: unknown or invalid argument '{args[i]}'. Usage: {Usage}").ConfigureAwait(false);
                    return 2;
            }

            i++;
        }

        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { Port = port, Rbac = rbac, OwnerReferencesPermissionEnforcement = rbac }, cancellationToken).ConfigureAwait(false);
        await server.WriteKubeconfigAsync(kubeconfig, cancellationToken).ConfigureAwait(false);
        var mode = rbac ? "RBAC enforced" : "every request allowed";
        Console.WriteLine($"Kubernetes API emulator (sandbox test harness, loopback only, {mode}) listening on {server.BaseAddress} and {server.SecureBaseAddress}");
        Console.WriteLine($"kubeconfig (admin, system:masters): {kubeconfig}");
        foreach (var (ns, name) in serviceAccounts)
        {
            var path = await SandboxIdentities.CreateServiceAccountKubeconfigAsync(server, ns, name, kubeconfig, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"kubeconfig (system:serviceaccount:{ns}:{name}): {path}");
        }

        Console.WriteLine($"  try: kubectl --kubeconfig {kubeconfig} get namespaces");
        Console.WriteLine($"       kubectl --kubeconfig {kubeconfig} auth can-i --list --as=system:serviceaccount:default:default");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("apiserver: stopping");
        }

        return 0;
    }
}
