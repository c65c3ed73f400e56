using System.Globalization;
using Sandbox.KubeApi;

namespace Sandbox;

/// <summary><c>sandbox apiserver [--port 6443] [--kubeconfig PATH]</c>: runs the Kubernetes API emulator until Ctrl-C.</summary>
internal static class ApiServerCommand
{
    public const string Usage = "apiserver [--port N] [--kubeconfig PATH]";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var port = 6443;
        var kubeconfig = Path.Combine(Directory.GetCurrentDirectory(), ".run", "kubeconfig");
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
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

        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { Port = port }, cancellationToken).ConfigureAwait(false);
        await server.WriteKubeconfigAsync(kubeconfig, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"Kubernetes API emulator (sandbox test harness, no authentication, loopback only) listening on {server.BaseAddress}");
        Console.WriteLine($"kubeconfig: {kubeconfig}");
        Console.WriteLine($"  try: kubectl --kubeconfig {kubeconfig} get namespaces");
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
