// Kubernetes API emulator benchmark: 10,000 objects, create throughput, list latency, watch fan-out, memory.
// Reproduce: dotnet run -c Release --project bench/KubeApi.Bench [-- --objects 10000 --watchers 20]
// Baselines measured in the same run: GET /version round trips (HTTP floor) and a 100-object list.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.KubeApi;

var objects = ArgInt("--objects", 10_000);
var watcherCount = ArgInt("--watchers", 20);
var concurrency = 8;
var inv = CultureInfo.InvariantCulture;

await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { WatchHistoryCapacity = objects * 2 });
using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
Console.WriteLine($"KubeApi.Bench: {objects} ConfigMaps, {watcherCount} watchers, {concurrency} concurrent writers, server {server.BaseAddress}");
GC.Collect();
var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

// Baseline: HTTP floor with the same concurrency.
var versionRate = await RateAsync(objects / 2, i => http.GetAsync(new Uri("/version", UriKind.Relative)));

// Create throughput.
await Post("/api/v1/namespaces", """{"metadata":{"name":"small"}}""");
for (var i = 0; i < 100; i++)
{
    await Post("/api/v1/namespaces/small/configmaps", ConfigMap("s" + i.ToString(inv)));
}

var createRate = await RateAsync(objects, i => PostAsync("/api/v1/namespaces/default/configmaps", ConfigMap("cm-" + i.ToString("D6", inv))));
GC.Collect();
var heapAfter = GC.GetTotalMemory(forceFullCollection: true);

// List latency: the whole 10k namespace versus a 100-object namespace.
var bigList = await LatenciesAsync(20, async () =>
{
    using var r = await http.GetAsync(new Uri("/api/v1/namespaces/default/configmaps", UriKind.Relative));
    var bytes = await r.Content.ReadAsByteArrayAsync();
    if (!r.IsSuccessStatusCode || bytes.Length < objects * 50)
    {
        throw new InvalidOperationException("list failed");
    }
});
var smallList = await LatenciesAsync(20, async () =>
{
    using var r = await http.GetAsync(new Uri("/api/v1/namespaces/small/configmaps", UriKind.Relative));
    await r.Content.ReadAsByteArrayAsync();
});

// Watch fan-out: every write must reach all watchers.
var received = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
var arrivals = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
using var stopWatchers = new CancellationTokenSource();
var listRv = server.CurrentResourceVersion.ToString(inv);
var watchers = Enumerable.Range(0, watcherCount).Select(_ => Task.Run(async () =>
{
    using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
    using var response = await client.GetAsync(new Uri($"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={listRv}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, stopWatchers.Token);
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stopWatchers.Token));
    try
    {
        while (await reader.ReadLineAsync(stopWatchers.Token) is { } line)
        {
            var key = (string?)JsonNode.Parse(line)!["object"]!["metadata"]!["resourceVersion"];
            if (key is not null && received.AddOrUpdate(key, 1, (_, n) => n + 1) == watcherCount)
            {
                arrivals[key] = Stopwatch.GetTimestamp();
            }
        }
    }
    catch (OperationCanceledException)
    {
        // Benchmark finished.
    }
})).ToList();
while (server.OpenWatchCount < watcherCount)
{
    await Task.Delay(10);
}

// Sequential writes: latency from the write call until the last watcher has the event.
var fanOut = new List<double>();
for (var i = 0; i < 500; i++)
{
    var start = Stopwatch.GetTimestamp();
    var body = await PatchAsync("/api/v1/namespaces/default/configmaps/cm-" + (i % objects).ToString("D6", inv), """{"data":{"round":"A""" + i.ToString(inv) + "\"}}");
    var rv = (string)JsonNode.Parse(body)!["metadata"]!["resourceVersion"]!;
    while (!arrivals.TryGetValue(rv, out _))
    {
        await Task.Yield();
    }

    fanOut.Add(Stopwatch.GetElapsedTime(start, arrivals[rv]).TotalMilliseconds);
}

// Burst: events per second delivered to all watchers together.
var burst = Math.Min(2000, objects);
var burstStart = Stopwatch.GetTimestamp();
var lastRv = "";
await RateAsync(burst, async i =>
{
    var body = await PatchAsync("/api/v1/namespaces/default/configmaps/cm-" + i.ToString("D6", inv), """{"data":{"round":"B"}}""");
    var rv = (string)JsonNode.Parse(body)!["metadata"]!["resourceVersion"]!;
    lock (received)
    {
        if (string.CompareOrdinal(rv.PadLeft(20, '0'), lastRv.PadLeft(20, '0')) > 0)
        {
            lastRv = rv;
        }
    }

    return new HttpResponseMessage();
});
while (!arrivals.ContainsKey(lastRv))
{
    await Task.Delay(1);
}

var burstSeconds = Stopwatch.GetElapsedTime(burstStart).TotalSeconds;
await stopWatchers.CancelAsync();
await Task.WhenAll(watchers);

var listP50 = Percentile(bigList, 50);
var fanP99 = Percentile(fanOut, 99);
Console.WriteLine();
Console.WriteLine($"baseline  GET /version           {versionRate,10:F0} req/s");
Console.WriteLine($"create    POST configmap         {createRate,10:F0} obj/s   ratio to baseline {createRate / versionRate:F2}");
Console.WriteLine($"list      {objects} objects       p50 {listP50,7:F1} ms  p99 {Percentile(bigList, 99),7:F1} ms   (100-object list p50 {Percentile(smallList, 50):F2} ms, ratio {listP50 / Percentile(smallList, 50):F1})");
Console.WriteLine($"watch     write->all {watcherCount} watchers p50 {Percentile(fanOut, 50),6:F2} ms  p99 {fanP99,6:F2} ms  max {fanOut.Max():F2} ms");
Console.WriteLine($"watch     burst {burst} writes: {burst * watcherCount / burstSeconds:F0} events/s delivered ({burstSeconds:F2} s)");
Console.WriteLine($"memory    managed heap +{(heapAfter - heapBefore) / 1024.0 / 1024.0:F1} MiB for {objects} objects ({(heapAfter - heapBefore) / (double)objects:F0} B/object); working set {Environment.WorkingSet / 1024 / 1024} MiB");
Console.WriteLine($"targets   list < 100 ms: {(listP50 < 100 ? "met" : "MISSED")}; write seen by all watchers p99 < 50 ms: {(fanP99 < 50 ? "met" : "MISSED")}");
Console.WriteLine("reproduce: dotnet run -c Release --project bench/KubeApi.Bench");
return 0;

int ArgInt(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : fallback;
}

static string ConfigMap(string name) => $$$"""{"metadata":{"name":"{{{name}}}","labels":{"app":"bench"}},"data":{"key":"value-{{{name}}}"}}""";

async Task Post(string path, string json)
{
    using var r = await PostAsync(path, json);
    r.EnsureSuccessStatusCode();
}

async Task<HttpResponseMessage> PostAsync(string path, string json)
{
    using var content = new StringContent(json, Encoding.UTF8, "application/json");
    var r = await http.PostAsync(new Uri(path, UriKind.Relative), content);
    r.EnsureSuccessStatusCode();
    return r;
}

async Task<string> PatchAsync(string path, string json)
{
    using var content = new StringContent(json, Encoding.UTF8);
    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/merge-patch+json");
    using var r = await http.PatchAsync(new Uri(path, UriKind.Relative), content);
    r.EnsureSuccessStatusCode();
    return await r.Content.ReadAsStringAsync();
}

async Task<double> RateAsync(int count, Func<int, Task<HttpResponseMessage>> call)
{
    var next = -1;
    var sw = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            using var response = await call(i);
        }
    })));
    return count / sw.Elapsed.TotalSeconds;
}

static async Task<List<double>> LatenciesAsync(int runs, Func<Task> action)
{
    await action();
    var result = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var sw = Stopwatch.StartNew();
        await action();
        result.Add(sw.Elapsed.TotalMilliseconds);
    }

    return result;
}

static double Percentile(List<double> values, int p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
