// Operator benchmark: N GreenhouseIntegrations created at once against the API emulator, with a fake
// kubelet that reports every Deployment available. Measures time until all are Ready, API requests
// per integration, the operator process's peak memory, and writes while idle afterwards. With health
// polling on: the first --health-pods integrations get a Ready pod whose SyncHealth (a fake gRPC server on
// the pod's loopback address, port 8081) answers an idle receiver's report; the operator polls them every
// --poll-seconds and must write nothing for them while idle.
// Reproduce: dotnet run -c Release --project bench/Operator.Bench [-- --integrations 1000 --idle-seconds 30 --health-pods 200 --poll-seconds 2 --unrelated-secrets 5000]
// --unrelated-secrets N first creates N Secrets of 10 KB the operator has nothing to do with (Helm releases,
// certificates...): its memory must not grow with them.
// Baseline measured in the same run: the bench client creating N ConfigMaps directly (the API floor).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ControllerRuntime;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Crds;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Operator.Bench;
using Sandbox.KubeApi;

var count = ArgInt("--integrations", 1000);
var idleSeconds = ArgInt("--idle-seconds", 30);
var healthPods = Math.Min(count, ArgInt("--health-pods", 200));
var pollSeconds = ArgInt("--poll-seconds", 2);
var unrelatedSecrets = ArgInt("--unrelated-secrets", 0);
const string ns = "bench";
var inv = CultureInfo.InvariantCulture;

await using var api = await KubeApiServer.StartAsync(new KubeApiServerOptions { WatchHistoryCapacity = count * 40 });
var benchRequests = new RequestCounter();
using var client = NewClient(api, benchRequests);
var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(CrdManifests.ToYaml(typeof(GreenhouseIntegration)));
await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
await WaitUntil(async () => (await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name)).Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true, TimeSpan.FromSeconds(30));
await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "floor" } });
Console.WriteLine($"Operator.Bench: {count} integrations, emulator {api.BaseAddress}");

// Baseline: the API floor for creating N objects with the same client and parallelism.
var floor = Stopwatch.StartNew();
await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
    await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = $"floor-{i:D5}" }, Data = new Dictionary<string, string> { ["k"] = "v" } }, "floor", cancellationToken: ct));
floor.Stop();

var filler = Convert.ToBase64String(new byte[10 * 1024 * 3 / 4]);
await Parallel.ForEachAsync(Enumerable.Range(0, unrelatedSecrets), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
    await client.CoreV1.CreateNamespacedSecretAsync(
        new V1Secret { Metadata = new V1ObjectMeta { Name = $"unrelated-{i:D5}", Labels = new Dictionary<string, string> { ["owner"] = "helm" } }, StringData = new Dictionary<string, string> { ["release"] = filler } },
        ns, cancellationToken: ct));
if (unrelatedSecrets > 0)
{
    Console.WriteLine($"created {unrelatedSecrets} unrelated Secrets of 10 KB in namespace {ns}");
}

// The operator as its own process, as in a cluster.
var kubeconfig = Path.Combine(Path.GetTempPath(), $"operator-bench-{Environment.ProcessId}.yaml");
await File.WriteAllTextAsync(kubeconfig, api.KubeconfigYaml);
var port = FreePort();
// --operator-dll: the operator as the image ships it (a `dotnet publish` output), instead of this bench's build output.
var operatorIndex = Array.IndexOf(args, "--operator-dll");
var operatorDll = operatorIndex >= 0 && operatorIndex + 1 < args.Length ? Path.GetFullPath(args[operatorIndex + 1]) : Path.Combine(AppContext.BaseDirectory, "Greenhouse.Operator.dll");
var start = new ProcessStartInfo("dotnet", [operatorDll]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
start.Environment["KUBECONFIG"] = kubeconfig;
start.Environment["Operator__ReceiverImage"] = "ghcr.io/example/greenhouse-receiver:1.0.0";
start.Environment["Operator__Namespace"] = ns;
start.Environment["Operator__Concurrency"] = "16";
start.Environment["Operator__ResyncPeriod"] = TimeSpan.FromSeconds(Math.Max(5, idleSeconds / 3)).ToString("c", inv);
start.Environment["Operator__LeaderElection__Enabled"] = "false";
start.Environment["Operator__MetricsPort"] = port.ToString(inv);
start.Environment["Operator__BindAddress"] = "127.0.0.1";
start.Environment["Operator__HealthPollInterval"] = TimeSpan.FromSeconds(pollSeconds).ToString("c", inv);
start.Environment["Logging__LogLevel__Default"] = "Warning";
// As in the chart's pod: there the runtime takes runtime.gcHeapHardLimitPercent of the container's memory limit
// (resources.limits.memory) as its GC heap limit; here there is no cgroup, so the same number of bytes is set
// explicitly. 0 = no limit. MALLOC_ARENA_MAX as the chart sets it.
var chart = ChartMemory();
var heapLimitMb = ArgInt("--operator-heap-limit-mb", (int)(chart.LimitMb * chart.HeapPercent / 100));
start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + ((long)heapLimitMb * 1024 * 1024).ToString("X", inv);
start.Environment["MALLOC_ARENA_MAX"] = chart.MallocArenaMax.ToString(inv);
using var process = Process.Start(start)!;
process.OutputDataReceived += (_, _) => { };
process.ErrorDataReceived += (_, e) => { if (!string.IsNullOrEmpty(e.Data)) Console.Error.WriteLine("operator: " + e.Data); };
process.BeginOutputReadLine();
process.BeginErrorReadLine();
using var stopKubelet = new CancellationTokenSource();
try
{
    using var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    await WaitUntil(async () =>
    {
        try
        {
            return (await probe.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }, TimeSpan.FromSeconds(60));

    // Fake kubelet + deployment controller: every Deployment generation is reported available.
    var kubelet = new Informer<V1Deployment>(ListWatches.For<V1Deployment>(client, ns), new InformerOptions { ResyncPeriod = TimeSpan.Zero }, TimeProvider.System, NullLogger.Instance);
    var pending = System.Threading.Channels.Channel.CreateUnbounded<V1Deployment>();
    kubelet.AddHandler(e =>
    {
        if (e.Type is InformerEventType.Added or InformerEventType.Updated && e.Current.Status?.ObservedGeneration != e.Current.Metadata.Generation)
        {
            pending.Writer.TryWrite(e.Current);
        }
    });
    var kubeletRun = kubelet.RunAsync(stopKubelet.Token);
    var kubeletWorkers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
    {
        await foreach (var deployment in pending.Reader.ReadAllAsync(stopKubelet.Token))
        {
            await MarkAvailableAsync(client, deployment);
        }
    })).ToArray();

    // Samples the operator's resident memory while it works: at the highest point, how much was anonymous
    // memory (GC heap, native allocations) and how much mapped files (the runtime's and the app's assemblies).
    using var sampling = new CancellationTokenSource();
    var peakSample = (Rss: 0.0, Anon: 0.0, File: 0.0, Shmem: 0.0);
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            var sample = MemorySample(process.Id);
            if (sample.Rss > peakSample.Rss)
            {
                peakSample = sample;
            }

            await Task.Delay(100, CancellationToken.None);
        }
    });
    var operatorBefore = api.Requests.Count - benchRequests.Count;
    var logStart = api.Requests.Count;
    var clock = Stopwatch.StartNew();
    await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
    {
        var integration = new GreenhouseIntegration
        {
            Metadata = new V1ObjectMeta { Name = $"org-{i:D5}", NamespaceProperty = ns },
            Spec = new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = $"https://hooks.example.com/greenhouse/org-{i:D5}" } },
        };
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(integration, GreenhouseIntegration.Group, GreenhouseIntegration.Version, ns, GreenhouseIntegration.Plural, cancellationToken: ct);
    });
    var created = clock.Elapsed;
    var ready = 0;
    await WaitUntil(async () =>
    {
        var list = await client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList<GreenhouseIntegration>>(GreenhouseIntegration.Group, GreenhouseIntegration.Version, ns, GreenhouseIntegration.Plural);
        ready = list.Items.Count(i => i.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        return ready == count;
    }, TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(500));
    var allReady = clock.Elapsed;
    var operatorRequests = api.Requests.Count - benchRequests.Count - operatorBefore;
    var peakMb = PeakMemoryMb(process.Id);
    await sampling.CancelAsync();
    await sampler;
    var gcMetrics = await probe.GetStringAsync(new Uri("/metrics", UriKind.Relative));
    // Where the operator's requests went (the bench's own carry its User-Agent).
    var operatorByKind = api.Requests.Snapshot().Skip(logStart).Where(r => r.UserAgent != RequestCounter.UserAgent)
        .GroupBy(r => $"{r.Verb} {r.Resource}{(r.Subresource is null ? "" : "/" + r.Subresource)}")
        .OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count() / (double)count:0.00}").ToList();

    // Health polling: Ready pods for the first integrations, answered by fake SyncHealth servers on their addresses.
    await using var health = await StartHealthServersAsync(healthPods);
    await Parallel.ForEachAsync(Enumerable.Range(0, healthPods), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        await CreateReadyPodAsync(client, ns, $"org-{i:D5}", PodAddress(i), ct));
    await WaitUntil(async () =>
    {
        var list = await client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList<GreenhouseIntegration>>(GreenhouseIntegration.Group, GreenhouseIntegration.Version, ns, GreenhouseIntegration.Plural);
        return list.Items.Count(i => i.Status?.Sync?.Candidates == 1000 && i.Status.Conditions?.Any(c => c.Type == "Synced" && c.Status == "True") == true) == healthPods;
    }, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(500));

    // Idle starts once the operator has drained its queue; from then on nothing changes and it must not write (resyncs and polls included).
    await WaitUntil(async () => (await probe.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Contains("workqueue_depth{name=\"greenhouseintegration\"} 0", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
    var logBefore = api.Requests.Count;
    var writesBefore = api.Requests.Snapshot().Count(r => r.IsWrite);
    var benchWritesBefore = benchRequests.Writes;
    var pollsBefore = FakeSyncHealth.Calls;
    await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
    var idlePolls = FakeSyncHealth.Calls - pollsBefore;
    var idleWrites = api.Requests.Snapshot().Count(r => r.IsWrite) - writesBefore - (benchRequests.Writes - benchWritesBefore);

    foreach (var group in api.Requests.Snapshot().Skip(logBefore).Where(r => r.IsWrite).GroupBy(r => $"{r.Verb} {r.Resource}/{r.Subresource} {r.StatusCode}"))
    {
        Console.WriteLine($"  idle write: {group.Key} x{group.Count()}");
    }

    var perIntegration = (double)operatorRequests / count;
    Console.WriteLine(string.Create(inv, $"baseline: bench client creates {count} ConfigMaps in {floor.Elapsed.TotalSeconds:0.00} s"));
    Console.WriteLine(string.Create(inv, $"integrations created in {created.TotalSeconds:0.00} s; all {count} Ready after {allReady.TotalSeconds:0.00} s ({allReady / floor.Elapsed:0.0}x the baseline) target < 30 s: {(allReady < TimeSpan.FromSeconds(30) ? "PASS" : "FAIL")}"));
    Console.WriteLine(string.Create(inv, $"requests per integration: {perIntegration:0.0} ({operatorRequests} operator API requests), target <= 10: {(perIntegration <= 10 ? "PASS" : "FAIL")}"));
    Console.WriteLine("  per integration: " + string.Join(", ", operatorByKind));
    Console.WriteLine(string.Create(inv, $"  highest sampled RSS {peakSample.Rss:0} MB: {peakSample.Anon:0} MB anonymous, {peakSample.File:0} MB files, {peakSample.Shmem:0} MB shared (double-mapped code); after Ready: GC heap {MetricMb(gcMetrics, "dotnet_total_memory_bytes"):0} MB, {MetricValue(gcMetrics, "dotnet_collection_count_total{generation=\"2\"}"):0} gen2 collections"));
    Console.WriteLine(string.Create(inv, $"peak memory: {peakMb:0} MB (operator VmHWM, GC heap limit {heapLimitMb} MB, MALLOC_ARENA_MAX {chart.MallocArenaMax}, {unrelatedSecrets} unrelated Secrets), target < 200 MB: {(peakMb < 200 ? "PASS" : "FAIL")}"));

    Console.WriteLine(string.Create(inv, $"writes during {idleSeconds} s idle (several resync periods): {idleWrites}, target 0: {(idleWrites == 0 ? "PASS" : "FAIL")}"));
    var statusWritesPerMinute = healthPods == 0 ? 0 : idleWrites / (double)healthPods / (idleSeconds / 60.0);
    Console.WriteLine(string.Create(inv, $"health polling: {healthPods} integrations with a Ready pod, {idlePolls} SyncHealth calls during idle (every {pollSeconds} s), status writes per integration per idle minute: {statusWritesPerMinute:0.###}, target 0: {(idleWrites == 0 && idlePolls >= healthPods ? "PASS" : "FAIL")}"));
    Console.WriteLine("reproduce: dotnet run -c Release --project bench/Operator.Bench -- --integrations " + count.ToString(inv));

    await stopKubelet.CancelAsync();
    pending.Writer.TryComplete();
    await kubeletRun;
    await Task.WhenAll(kubeletWorkers.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default)));
    return allReady < TimeSpan.FromSeconds(30) && perIntegration <= 10 && peakMb < 200 && idleWrites == 0 && idlePolls >= healthPods ? 0 : 1;
}
finally
{
    if (!process.HasExited)
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    File.Delete(kubeconfig);
}

static string PodAddress(int i) => $"127.0.{20 + (i / 250)}.{1 + (i % 250)}";

static async Task<WebApplication> StartHealthServersAsync(int pods)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.Services.AddGrpc();
    builder.WebHost.ConfigureKestrel(kestrel =>
    {
        for (var i = 0; i < pods; i++)
        {
            kestrel.Listen(IPAddress.Parse(PodAddress(i)), Greenhouse.Contracts.ReceiverPorts.Grpc, listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
        }
    });
    var app = builder.Build();
    app.MapGrpcService<FakeSyncHealth>();
    await app.StartAsync();
    return app;
}

static async Task CreateReadyPodAsync(IKubernetes client, string ns, string integration, string ip, CancellationToken cancellationToken)
{
    var pod = await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
    {
        Metadata = new V1ObjectMeta { Name = integration + "-receiver-0", NamespaceProperty = ns, Labels = Greenhouse.Operator.Reconciliation.DesiredStateBuilder.Labels(integration) },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "receiver", Image = "receiver:1" }] },
    }, ns, cancellationToken: cancellationToken);
    pod.Status = new V1PodStatus { Phase = "Running", PodIP = ip, Conditions = [new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = DateTime.UtcNow }] };
    await client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, pod.Metadata.Name, ns, cancellationToken: cancellationToken);
}

static async Task MarkAvailableAsync(IKubernetes client, V1Deployment deployment)
{
    var replicas = deployment.Spec.Replicas ?? 1;
    var now = DateTime.UtcNow;
    var status = new V1DeploymentStatus
    {
        ObservedGeneration = deployment.Metadata.Generation,
        Replicas = replicas,
        UpdatedReplicas = replicas,
        ReadyReplicas = replicas,
        AvailableReplicas = replicas,
        Conditions = [new V1DeploymentCondition { Type = "Available", Status = "True", Reason = "MinimumReplicasAvailable", Message = "Deployment has minimum availability.", LastUpdateTime = now, LastTransitionTime = now }],
    };
    var patch = new V1Patch(KubernetesJson.Serialize(new { status }), V1Patch.PatchType.MergePatch);
    await client.AppsV1.PatchNamespacedDeploymentStatusAsync(patch, deployment.Metadata.Name, deployment.Metadata.NamespaceProperty);
}

static Kubernetes NewClient(KubeApiServer api, DelegatingHandler handler)
{
    using var stream = new MemoryStream(Encoding.UTF8.GetBytes(api.KubeconfigYaml));
    return new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(stream), handler);
}

static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? poll = null)
{
    var clock = Stopwatch.StartNew();
    while (!await condition())
    {
        if (clock.Elapsed > timeout)
        {
            throw new TimeoutException($"condition not met within {timeout}");
        }

        await Task.Delay(poll ?? TimeSpan.FromMilliseconds(50));
    }
}

static double PeakMemoryMb(int pid)
{
    var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
    var kb = line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    return kb / 1024;
}

static (double Rss, double Anon, double File, double Shmem) MemorySample(int pid)
{
    double Kb(string[] lines, string key) =>
        lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal)) is { } line ? double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 : 0;
    try
    {
        var lines = File.ReadAllLines($"/proc/{pid}/status");
        return (Kb(lines, "VmRSS:"), Kb(lines, "RssAnon:"), Kb(lines, "RssFile:"), Kb(lines, "RssShmem:"));
    }
    catch (IOException)
    {
        return (0, 0, 0, 0);
    }
}

static double MetricValue(string metrics, string series) =>
    metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal)) is { } line
        ? double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture)
        : double.NaN;

static double MetricMb(string metrics, string series) => MetricValue(metrics, series) / (1024 * 1024);

// The operator container's memory limit and runtime settings from the chart's values.yaml.
static (double LimitMb, double HeapPercent, int MallocArenaMax) ChartMemory()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "charts", "greenhouse-operator", "values.yaml")))
    {
        dir = dir.Parent;
    }

    if (dir is null)
    {
        throw new InvalidOperationException("charts/greenhouse-operator/values.yaml not found above " + AppContext.BaseDirectory);
    }

    var values = new YamlDotNet.Serialization.DeserializerBuilder().Build()
        .Deserialize<Dictionary<string, object>>(File.ReadAllText(Path.Combine(dir.FullName, "charts", "greenhouse-operator", "values.yaml")));
    static Dictionary<object, object> Map(object? node) => (Dictionary<object, object>)node!;
    var limit = new ResourceQuantity((string)Map(Map(values["resources"])["limits"])["memory"]).ToInt64();
    var runtime = Map(values["runtime"]);
    return (limit / (1024.0 * 1024), double.Parse((string)runtime["gcHeapHardLimitPercent"], CultureInfo.InvariantCulture), int.Parse((string)runtime["mallocArenaMax"], CultureInfo.InvariantCulture));
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

int ArgInt(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>Counts the bench's own requests so they can be told apart from the operator's in the emulator's log.</summary>
internal sealed class RequestCounter : DelegatingHandler
{
    public const string UserAgent = "Operator.Bench";

    private int _count;
    private int _writes;

    public int Count => Volatile.Read(ref _count);

    public int Writes => Volatile.Read(ref _writes);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        request.Headers.UserAgent.Clear();
        request.Headers.UserAgent.ParseAdd(UserAgent);
        if (request.Method != HttpMethod.Get)
        {
            Interlocked.Increment(ref _writes);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
