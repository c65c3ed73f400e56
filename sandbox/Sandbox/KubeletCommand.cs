using System.Globalization;
using k8s;
using Sandbox.Kubelet;

namespace Sandbox;

/// <summary>
/// <c>sandbox kubelet --kubeconfig PATH [--status-only] [--state DIR]</c>: the local kubelet alone, against any
/// (emulated) API server; with <c>--status-only</c> pods are reported Ready without processes (operator benchmarks).
/// </summary>
internal static class KubeletCommand
{
    public const string Usage = "kubelet --kubeconfig PATH [--status-only] [--state DIR] [--sync-ms N] [--image SUFFIX=FILE[,ARG...]]   local kubelet only";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string? kubeconfig = null;
        var statusOnly = false;
        var state = Path.Combine(SandboxLayout.RepositoryRoot, ".run", "kubelet");
        var sync = TimeSpan.FromSeconds(1);
        var images = new List<ImageCommand>();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "-h" or "--help":
                    Console.WriteLine("usage: sandbox " + Usage);
                    return 0;
                case "--status-only":
                    statusOnly = true;
                    continue;
                case "--kubeconfig" when !string.IsNullOrWhiteSpace(value):
                    kubeconfig = Path.GetFullPath(value);
                    break;
                case "--state" when !string.IsNullOrWhiteSpace(value):
                    state = Path.GetFullPath(value);
                    break;
                case "--image" when value is not null && ImageCommand.TryParse(value, out var image):
                    images.Add(image!);
                    break;
                case "--sync-ms" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0:
                    sync = TimeSpan.FromMilliseconds(ms);
                    break;
                default:
                    await Console.Error.WriteLineAsync($"kubelet: unknown or invalid argument '{args[i]}'. Usage: {Usage}").ConfigureAwait(false);
                    return 2;
            }

            i++;
        }

        if (kubeconfig is null)
        {
            await Console.Error.WriteLineAsync($"kubelet: --kubeconfig is required. Usage: {Usage}").ConfigureAwait(false);
            return 2;
        }

        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        using var client = new Kubernetes(config);
        // Pods reach the API server where the kubeconfig does, if that is TLS (in-cluster clients speak only https).
        var apiServer = Uri.TryCreate(config.Host, UriKind.Absolute, out var host) && host.Scheme == Uri.UriSchemeHttps ? host : null;
        await using var kubelet = LocalKubelet.Start(
            client,
            new LocalKubeletOptions
            {
                StateDirectory = state,
                StatusOnly = statusOnly,
                SyncPeriod = sync,
                Images = [.. images, ImageCommand.Receiver(SandboxLayout.RepositoryRoot, SandboxLayout.Configuration)],
                ApiServer = apiServer,
                CertificateAuthorityPem = apiServer is null ? null : string.Concat(config.SslCaCerts?.Select(c => c.ExportCertificatePem() + "\n") ?? []),
            },
            loggerFactory).ConfigureAwait(false);
        Console.WriteLine($"local kubelet{(statusOnly ? " (status-only)" : "")} running against {kubeconfig}; state in {state}. Ctrl-C stops it and its processes.");
        if (apiServer is null)
        {
            Console.WriteLine("kubelet: the kubeconfig's server is not https, so pods get no KUBERNETES_SERVICE_HOST/PORT or ca.crt (receivers cannot check API tokens); use a kubeconfig for the TLS endpoint.");
        }
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("kubelet: stopping");
        }

        return 0;
    }
}
