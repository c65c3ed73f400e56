using System.Diagnostics;
using System.Globalization;
using Greenhouse.Harvest;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Greenhouse;

// Full sweep benchmark: page through every simulated candidate under Harvest's rate limit and compare the
// elapsed time with the bound the limit sets (pages / limit x window). A second, unthrottled sweep in the
// same run is the baseline for what paging itself costs on this machine. Then the receiver in Harvest
// mode: its start-up full sweep under the same limit, and a webhook burst counting hydration's Harvest
// calls (--client-only skips these; --webhooks, --burst-candidates, --burst-seconds tune the burst).
var candidates = IntArg("--candidates", 50_000);
var limit = IntArg("--limit", 50);
var windowSeconds = DoubleArg("--window-seconds", 10);
var perPage = IntArg("--per-page", 500);
var reserved = DoubleArg("--reserve", 0.1);
var window = TimeSpan.FromSeconds(windowSeconds);

Console.WriteLine($"Generating {candidates:N0} candidates...");
await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = candidates, RateLimit = limit, RateLimitWindow = window });
await using var unthrottled = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = candidates, RateLimit = int.MaxValue, RateLimitWindow = window });

var baseline = await SweepAsync(unthrottled, reserved, alignToWindow: false);
var throttled = await SweepAsync(simulator, reserved, alignToWindow: true);

var pages = (int)Math.Ceiling(candidates / (double)perPage);
var bound = TimeSpan.FromSeconds(pages / (double)limit * windowSeconds);
var stats = simulator.Statistics;
Console.WriteLine();
Console.WriteLine($"Full sweep of {throttled.Candidates:N0} candidates, per_page {perPage}, limit {limit} per {windowSeconds:0.##} s, reserve {reserved:P0}");
Console.WriteLine($"  pages (requests)        {throttled.Pages}");
Console.WriteLine($"  baseline, no limit      {baseline.Elapsed.TotalSeconds:0.00} s (paging cost on this machine)");
Console.WriteLine($"  lower bound             {bound.TotalSeconds:0.00} s (pages / limit x window)");
Console.WriteLine($"  elapsed under the limit {throttled.Elapsed.TotalSeconds:0.00} s  = {throttled.Elapsed / bound:0.000}x the bound (target <= 1.15x)");
Console.WriteLine($"  429 answers             {stats.Throttled} (target 0); most requests in one window {stats.MaxRequestsInAnyWindow} of {limit}");
Console.WriteLine($"  reproduce: make bench BENCH=Harvest.Bench  or  dotnet run -c Release --project bench/Harvest.Bench -- --candidates {candidates} --limit {limit} --window-seconds {windowSeconds} --per-page {perPage}");
var clientOk = throttled.Candidates == candidates && stats.Throttled == 0;
if (args.Contains("--client-only"))
{
    return clientOk ? 0 : 1;
}
var sweepOk = await Harvest.Bench.ReceiverSyncBench.FullSweepAsync(candidates, limit, window, perPage);
var burstOk = await Harvest.Bench.ReceiverSyncBench.BurstAsync(IntArg("--webhooks", 1000), IntArg("--burst-candidates", 100),
    TimeSpan.FromSeconds(DoubleArg("--burst-seconds", 3)), limit, window);
Console.WriteLine($"  reproduce the receiver part: dotnet run -c Release --project bench/Harvest.Bench -- --candidates {candidates} --limit {limit} --window-seconds {windowSeconds}");
return clientOk && sweepOk && burstOk ? 0 : 1;

async Task<(TimeSpan Elapsed, int Pages, int Candidates)> SweepAsync(GreenhouseSimulator target, double reserve, bool alignToWindow)
{
    var services = new ServiceCollection();
    services.AddSingleton<IHarvestCredentialSource>(new StaticHarvestCredentialSource(new HarvestCredentials(target.DefaultClient.ClientId, target.DefaultClient.ClientSecret)));
    services.AddGreenhouseHarvest(o =>
    {
        o.BaseUrl = target.HarvestBaseUrl;
        o.TokenUrl = target.TokenUrl;
        o.SyncUserId = target.SyncUserId;
        o.PageSize = perPage;
        o.ReservedBudgetShare = reserve;
    });
    await using var provider = services.BuildServiceProvider();
    var client = provider.GetRequiredService<IHarvestClient>();

    if (alignToWindow)
    {
        // The simulator's windows are aligned to the epoch; starting at a window boundary measures the
        // worst case instead of getting a partial first window for free.
        var windowMs = (long)window.TotalMilliseconds;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(TimeSpan.FromMilliseconds(windowMs - (now % windowMs) + 5));
    }

    var stopwatch = Stopwatch.StartNew();
    var pageCount = 0;
    var seen = new HashSet<long>();
    await foreach (var page in client.ListCandidatesAsync())
    {
        pageCount++;
        foreach (var candidate in page)
        {
            seen.Add(candidate.Id);
        }
    }

    return (stopwatch.Elapsed, pageCount, seen.Count);
}

int IntArg(string name, int fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;

double DoubleArg(string name, double fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
