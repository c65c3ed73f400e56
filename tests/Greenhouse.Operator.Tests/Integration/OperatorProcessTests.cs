using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Greenhouse.Operator.Api;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>The operator executable as it runs in a pod: configuration, probes, metrics.</summary>
public sealed class OperatorProcessTests
{
    [Fact]
    public async Task Operator_process_serves_probes_and_metrics_and_reconciles()
    {
        await using var harness = await OperatorHarness.StartAsync();
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"ghi-operator-test-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(kubeconfig, harness.Api.KubeconfigYaml);
        var port = FreePort();
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = Start(output, new Dictionary<string, string>
        {
            ["KUBECONFIG"] = kubeconfig,
            ["Operator__ReceiverImage"] = "ghcr.io/example/greenhouse-receiver:1.0.0",
            ["Operator__Namespace"] = OperatorHarness.Namespace,
            ["Operator__LeaderElection__Enabled"] = "false",
            ["Operator__MetricsPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Operator__BindAddress"] = "127.0.0.1",
        });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await Eventually.TrueAsync(
                async () => process.HasExited ? throw new InvalidOperationException("operator exited: " + string.Join("\n", output)) : await StatusAsync(http, "/readyz") == HttpStatusCode.OK,
                "/readyz reports synced caches");
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, "/healthz"));

            await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/acme" } });
            await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the process reconciled the integration");

            // Status (and with it the readiness series) is written after the owned objects.
            var metrics = "";
            await Eventually.TrueAsync(
                async () => (metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Contains("greenhouse_integration_ready{", StringComparison.Ordinal)
                    && !metrics.Contains("controller_runtime_reconcile_total{controller=\"greenhouseintegration\",result=\"success\"} 0\n", StringComparison.Ordinal),
                "the operator reports the integration's readiness and a finished reconcile");
            Assert.Contains("controller_runtime_reconcile_total{controller=\"greenhouseintegration\",result=\"success\"}", metrics, StringComparison.Ordinal);
            Assert.Contains("controller_runtime_reconcile_errors_total{controller=\"greenhouseintegration\"} 0", metrics, StringComparison.Ordinal);
            Assert.Contains("controller_runtime_reconcile_time_seconds_count{controller=\"greenhouseintegration\"}", metrics, StringComparison.Ordinal);
            Assert.Contains("rest_client_requests_total{method=\"PATCH\",code=\"201\"}", metrics, StringComparison.Ordinal); // server-side apply that creates
            Assert.Contains("workqueue_depth{name=\"greenhouseintegration\"}", metrics, StringComparison.Ordinal);
            Assert.Contains("greenhouse_integrations{ready=\"False\"} 1", metrics, StringComparison.Ordinal);
            Assert.Contains($"greenhouse_integration_ready{{namespace=\"{OperatorHarness.Namespace}\",name=\"acme\"}} 0", metrics, StringComparison.Ordinal);
            Assert.Contains("leader_election_master_status{name=\"greenhouse-operator\"} 1", metrics, StringComparison.Ordinal);
            Assert.Contains("greenhouse_operator_build_info{version=\"", metrics, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            File.Delete(kubeconfig);
        }
    }

    [Fact]
    public async Task Missing_receiver_image_stops_start_up_with_one_line_naming_the_setting()
    {
        using var process = Start(null, new Dictionary<string, string>
        {
            ["Operator__MetricsPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Operator__BindAddress"] = "127.0.0.1",
        });
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, process.ExitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("ReceiverImage", line, StringComparison.Ordinal);
    }

    private static Process Start(System.Collections.Concurrent.ConcurrentQueue<string>? output, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Greenhouse.Operator.dll")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => output?.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        if (output is not null)
        {
            process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
            process.BeginErrorReadLine();
        }

        return process;
    }

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
