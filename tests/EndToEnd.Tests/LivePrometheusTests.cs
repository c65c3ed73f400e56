using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Greenhouse.Testing;

namespace EndToEnd.Tests;

/// <summary>
/// The alerts and the dashboard against a real Prometheus (Debian's package, on 127.0.0.1) scraping
/// the sandbox (`sandbox run` with examples/sandbox/): every dashboard query and alert expression
/// evaluates without error, most dashboard queries return data, the rules load and evaluate, and
/// every metric the alerts read is exported live.
/// </summary>
public sealed partial class LivePrometheusTests : IAsyncLifetime
{
    // Series that exist only once something went wrong (a scope Harvest refused).
    private static readonly HashSet<string> OnlyOnTrouble = new(StringComparer.Ordinal)
    {
        "greenhouse_harvest_missing_scope",
    };

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string state = Path.Combine(Path.GetTempPath(), "live-prometheus-" + Guid.NewGuid().ToString("N"));
    private readonly StringBuilder output = new();
    private Process? sandbox;
    private Process? prometheus;

    private readonly Xunit.Abstractions.ITestOutputHelper log;

    public LivePrometheusTests(Xunit.Abstractions.ITestOutputHelper log) => this.log = log;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var process in new[] { prometheus, sandbox })
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process?.Dispose();
        }

        if (Directory.Exists(state))
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Dashboard_queries_and_alert_expressions_evaluate_against_prometheus_scraping_the_sandbox()
    {
        var promBinary = ExternalTool.Prometheus;
        Directory.CreateDirectory(state);
        var firstPodIp = new IPAddress([127, (byte)RandomNumberGenerator.GetInt32(64, 250), (byte)RandomNumberGenerator.GetInt32(0, 256), 2]).ToString();
        sandbox = Start("dotnet", [SandboxAssembly(), "run", "--port", "0", "--greenhouse-port", "0", "--control-port", "0", "--candidates", "20", "--state", Path.Combine(state, "sandbox"), "--first-pod-ip", firstPodIp]);
        await Eventually.TrueAsync(() => Output().Contains("Next steps", StringComparison.Ordinal), "the sandbox prints its next steps", TimeSpan.FromSeconds(90));

        var kubeconfig = Path.Combine(state, "sandbox", "kubeconfig");
        var control = ControlUrl().Match(Output()).Groups[1].Value;
        var greenhouse = GreenhouseUrl().Match(Output()).Groups[1].Value;
        var operatorMetrics = OperatorMetricsUrl().Match(Output()).Groups[1].Value;
        var examples = string.Join("\n---\n", Directory.GetFiles(RepositoryPaths.Combine("examples", "sandbox"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText));
        var applied = await ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", kubeconfig, "apply", "-f", "-"], examples.Replace("http://127.0.0.1:7470/", greenhouse, StringComparison.Ordinal));
        Assert.True(applied.ExitCode == 0, applied.ToString());
        await Eventually.TrueAsync(
            async () => (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")).StandardOutput == "True",
            "the example integration is Ready", TimeSpan.FromSeconds(90));
        var pod = (await Kubectl(kubeconfig, "get", "pods", "-n", "recruiting", "-l", "app.kubernetes.io/instance=acme", "-o", "jsonpath={.items[0].metadata.name} {.items[0].status.podIP}")).StandardOutput.Split(' ');

        // Prometheus scrapes what the chart's ServiceMonitor and PodMonitor would: the operator with
        // honor labels, the receiver with namespace/pod/name target labels.
        var promPort = FreePort();
        var config = Path.Combine(state, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: ["{MonitoringRules.AlertsFile}"]
            scrape_configs:
              - job_name: greenhouse-operator
                honor_labels: true
                metrics_path: /metrics
                static_configs: [{"{"}targets: ["{operatorMetrics}"], labels: {"{"}namespace: greenhouse-system, pod: sandbox-operator{"}"}{"}"}]
              - job_name: greenhouse-receiver
                static_configs: [{"{"}targets: ["{pod[1]}:8082"], labels: {"{"}namespace: recruiting, pod: {pod[0]}, name: acme{"}"}{"}"}]
            """);
        prometheus = Start(promBinary, ["--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(state, "tsdb"), $"--web.listen-address=127.0.0.1:{promPort}", "--log.level=warn"]);
        var api = new Uri($"http://127.0.0.1:{promPort}/api/v1/");
        await Eventually.TrueAsync(
            async () =>
            {
                if (prometheus.HasExited)
                {
                    throw new InvalidOperationException("prometheus exited: " + Output());
                }

                try
                {
                    // 503 "Service Unavailable" until the TSDB is open and the rules are loaded.
                    using var ready = await Http.GetAsync(new Uri($"http://127.0.0.1:{promPort}/-/ready"));
                    return ready.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false; // not listening yet
                }
            },
            "Prometheus is ready",
            TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(async () => (await QueryAsync(api, "sum(up)")).Data is [var up] && Value(up) == 2, "Prometheus scrapes the operator and the receiver", TimeSpan.FromSeconds(60));

        // A change in Greenhouse: a signed webhook, ingest latency, a hydration from Harvest.
        await Eventually.TrueAsync(() => Output().Contains($"now posts to http://{pod[1]}:8080/greenhouse/acme", StringComparison.Ordinal), "the webhook is configured in the simulator", TimeSpan.FromSeconds(60));
        var candidate = Regex.Match(await Http.GetStringAsync(new Uri(control + "candidates")), @"""first"":\[(\d+)").Groups[1].Value;
        using (var update = await Http.PostAsync(new Uri($"{control}candidates/{candidate}/update?title=Live%20Prometheus"), null))
        {
            update.EnsureSuccessStatusCode();
        }

        await Eventually.TrueAsync(
            async () => (await QueryAsync(api, "sum(greenhouse_webhooks_received_total{result=\"accepted\"})")).Data is [var accepted] && Value(accepted) >= 1
                && (await QueryAsync(api, "sum(greenhouse_sync_last_sweep_timestamp_seconds)")).Data.Count > 0,
            "Prometheus saw the accepted delivery and the first sweep", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(5)); // several scrapes after the delivery, so rates have two samples with it

        var failures = new List<string>();
        var empty = new List<string>();
        var queries = MonitoringRules.DashboardQueries();
        foreach (var query in queries)
        {
            var result = await QueryAsync(api, MonitoringRules.Resolve(query.Expr, "1m"));
            if (result.Error is not null)
            {
                failures.Add($"panel {query.Panel}: {result.Error}");
            }
            else if (result.Data.Count == 0)
            {
                empty.Add(query.Panel + ": " + query.Expr);
            }
        }

        foreach (var alert in MonitoringRules.Alerts())
        {
            var result = await QueryAsync(api, alert.Expr);
            if (result.Error is not null)
            {
                failures.Add($"alert {alert.Name}: {result.Error}");
            }

            foreach (var metric in MonitoringRules.MetricNames(alert.Expr).Where(m => !OnlyOnTrouble.Contains(m)))
            {
                if ((await QueryAsync(api, $"count({metric})")).Data.Count == 0)
                {
                    failures.Add($"alert {alert.Name}: {metric} has no series in the live sandbox");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        var withData = queries.Count - empty.Count;
        log.WriteLine($"{withData} of {queries.Count} dashboard queries return data; empty: {string.Join("; ", empty)}");
        Assert.True(withData * 4 >= queries.Count * 3, $"only {withData} of {queries.Count} dashboard queries return data; empty:\n" + string.Join("\n", empty));

        // The rules Prometheus loaded evaluate cleanly, and a healthy sandbox fires nothing.
        using var rules = JsonDocument.Parse(await Http.GetStringAsync(new Uri(api, "rules")));
        var loaded = rules.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
        Assert.Equal(MonitoringRules.Alerts().Count, loaded.Count);
        Assert.All(loaded, r => Assert.True(r.GetProperty("health").GetString() == "ok", r.GetProperty("name").GetString() + ": " + (r.TryGetProperty("lastError", out var error) ? error.GetString() : "")));
        Assert.Empty((await QueryAsync(api, "ALERTS{alertstate=\"firing\"}")).Data);
    }

    private sealed record QueryResult(string? Error, IReadOnlyList<JsonElement> Data);

    private static async Task<QueryResult> QueryAsync(Uri api, string promql)
    {
        using var response = await Http.GetAsync(new Uri(api, "query?query=" + Uri.EscapeDataString(promql)));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            return new QueryResult(root.GetProperty("error").GetString(), []);
        }

        var data = root.GetProperty("data");
        var result = data.GetProperty("result");
        return data.GetProperty("resultType").GetString() is "vector" or "matrix"
            ? new QueryResult(null, result.EnumerateArray().Select(e => e.Clone()).ToList())
            : new QueryResult(null, [result.Clone()]);
    }

    private static double Value(JsonElement sample) =>
        double.Parse(sample.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);

    private Process Start(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepositoryPaths.Root };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private string Output()
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string SandboxAssembly()
    {
        var configuration = typeof(LivePrometheusTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        return RepositoryPaths.Combine("sandbox", "Sandbox", "bin", configuration, "net10.0", "Sandbox.dll");
    }

    private static Task<ToolResult> Kubectl(string kubeconfig, params string[] arguments) =>
        ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", kubeconfig, .. arguments]);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Greenhouse UI\s+(http://\S+/)")]
    private static partial Regex ControlUrl();

    [GeneratedRegex(@"Greenhouse\s+(http://\S+/) \(Harvest")]
    private static partial Regex GreenhouseUrl();

    [GeneratedRegex(@"metrics http://(127\.0\.0\.1:\d+)/metrics")]
    private static partial Regex OperatorMetricsUrl();
}
