using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Greenhouse.Receiver;
using Greenhouse.Receiver.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Greenhouse;

namespace Harvest.Bench;

/// <summary>
/// The receiver in Harvest mode against the simulator: (1) its start-up full sweep under the rate
/// limit, timed against the bound the limit sets; (2) a burst of webhooks, counting the Harvest
/// calls hydration makes.
/// </summary>
internal static class ReceiverSyncBench
{
    public static async Task<bool> FullSweepAsync(int candidates, int limit, TimeSpan window, int perPage)
    {
        Console.WriteLine($"\nReceiver full sweep: generating {candidates:N0} candidates...");
        await using var greenhouse = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = candidates, RateLimit = limit, RateLimitWindow = window });
        var root = Directory.CreateTempSubdirectory("harvest-bench-").FullName;
        try
        {
            // Start on a window boundary (the simulator's windows are aligned to the epoch): the worst case.
            var windowMs = (long)window.TotalMilliseconds;
            await Task.Delay(TimeSpan.FromMilliseconds(windowMs - (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % windowMs) + 5));
            var stopwatch = Stopwatch.StartNew();
            await using var app = await StartReceiverAsync(root, greenhouse);
            var status = app.Services.GetRequiredService<SyncStatus>();
            while (status.Current.LastFullSweepAt is null)
            {
                if (stopwatch.Elapsed > TimeSpan.FromMinutes(10) || status.Current.LastSweepError is { } error)
                {
                    Console.WriteLine($"  sweep did not finish: {status.Current.LastSweepError ?? "timeout"}");
                    return false;
                }
                await Task.Delay(20);
            }
            var elapsed = stopwatch.Elapsed;
            var mirrored = app.Services.GetRequiredService<Greenhouse.Receiver.Mirror.CandidateMirror>().Count;
            var pages = (int)Math.Ceiling(candidates / (double)perPage);
            var bound = TimeSpan.FromSeconds(pages / (double)limit * window.TotalSeconds);
            var stats = greenhouse.Statistics;
            Console.WriteLine($"  receiver start-up full sweep: {mirrored:N0} candidates mirrored, {stats.HarvestRequests} Harvest requests ({pages} pages)");
            Console.WriteLine($"  lower bound             {bound.TotalSeconds:0.00} s (pages / limit x window)");
            Console.WriteLine($"  elapsed (start to done) {elapsed.TotalSeconds:0.00} s  = {elapsed / bound:0.000}x the bound (target <= 1.15x; the client keeps 10% of the budget free)");
            Console.WriteLine($"  429 answers             {stats.Throttled} (target 0); most requests in one window {stats.MaxRequestsInAnyWindow} of {limit}");
            await app.StopAsync();
            return mirrored == candidates && stats.Throttled == 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    public static async Task<bool> BurstAsync(int webhooks, int candidates, TimeSpan spread, int limit, TimeSpan window)
    {
        Console.WriteLine($"\nReceiver burst: {webhooks:N0} webhooks touching {candidates} candidates within {spread.TotalSeconds:0.#} s, limit {limit} per {window.TotalSeconds:0.##} s");
        await using var greenhouse = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = candidates, RateLimit = limit, RateLimitWindow = window });
        var root = Directory.CreateTempSubdirectory("harvest-burst-").FullName;
        try
        {
            var publicPort = FreePort();
            await using var app = await StartReceiverAsync(root, greenhouse, publicPort);
            var status = app.Services.GetRequiredService<SyncStatus>();
            while (status.Current.LastFullSweepAt is null)
            {
                await Task.Delay(20);
            }
            if (!await greenhouse.RegisterWebhookAsync(new WebhookRegistration(new Uri($"http://127.0.0.1:{publicPort}/webhooks/greenhouse"), BenchSecret)))
            {
                Console.WriteLine("  the webhook ping failed");
                return false;
            }
            var before = greenhouse.Statistics.HarvestRequests;
            var ids = greenhouse.CandidateIds;
            var stopwatch = Stopwatch.StartNew();
            for (var i = 0; i < webhooks; i++)
            {
                var n = i;
                greenhouse.UpdateCandidate(ids[i % ids.Count], c => c["title"] = $"Title {n}");
                var due = spread * ((i + 1) / (double)webhooks);
                if (due > stopwatch.Elapsed)
                {
                    await Task.Delay(due - stopwatch.Elapsed);
                }
            }
            var sent = stopwatch.Elapsed;
            var inbox = app.Services.GetRequiredService<Greenhouse.Receiver.Storage.InboxStatistics>();
            var mirror = app.Services.GetRequiredService<Greenhouse.Receiver.Mirror.CandidateMirror>();
            // Done when every delivery landed, every event was applied, nothing waits for hydration and the mirror matches Harvest.
            while (greenhouse.WebhookDeliveries.Any(d => d.State == WebhookDeliveryState.Pending)
                || inbox.Read() is not { Pending: 0 }
                || status.Current.HydrationsPending > 0
                || ids.Any(id => mirror.Get(id)?.Title != greenhouse.GetCandidate(id)!["title"]?.GetValue<string>()))
            {
                if (stopwatch.Elapsed > TimeSpan.FromMinutes(5))
                {
                    Console.WriteLine("  the mirror did not converge within 5 minutes");
                    return false;
                }
                await Task.Delay(20);
            }
            var calls = greenhouse.Statistics.HarvestRequests - before;
            var delivered = greenhouse.WebhookDeliveries.Count(d => d.State == WebhookDeliveryState.Delivered && d.Action == "update_candidate");
            Console.WriteLine($"  sent in {sent.TotalSeconds:0.00} s, {delivered:N0} deliveries accepted; mirror converged {stopwatch.Elapsed.TotalSeconds:0.00} s after the first");
            Console.WriteLine($"  Harvest calls made      {calls} (target <= 110; one per candidate would be {candidates}), 429 answers {greenhouse.Statistics.Throttled}");
            await app.StopAsync();
            return calls <= 110;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private const string BenchSecret = "harvest-bench-secret";

    private static async Task<WebApplication> StartReceiverAsync(string root, GreenhouseSimulator greenhouse, int? publicPort = null)
    {
        var secrets = Path.Combine(root, "secrets");
        var credentials = Path.Combine(root, "harvest");
        Directory.CreateDirectory(secrets);
        Directory.CreateDirectory(credentials);
        await File.WriteAllTextAsync(Path.Combine(secrets, "secret_key"), BenchSecret);
        await File.WriteAllTextAsync(Path.Combine(credentials, "client_id"), greenhouse.DefaultClient.ClientId);
        await File.WriteAllTextAsync(Path.Combine(credentials, "client_secret"), greenhouse.DefaultClient.ClientSecret);
        var app = ReceiverApplication.Build(
        [
            $"--urls=http://127.0.0.1:{publicPort ?? FreePort()}",
            "--Api:BindAddress=127.0.0.1",
            "--Api:Auth:Mode=None",
            $"--Api:GrpcPort={FreePort()}",
            $"--Api:HttpPort={FreePort()}",
            $"--Webhook:SecretsDirectory={secrets}",
            $"--Storage:DataDirectory={Path.Combine(root, "data")}",
            "--Harvest:Enabled=true",
            $"--Harvest:CredentialsDirectory={credentials}",
            $"--Harvest:SyncUserId={greenhouse.SyncUserId}",
            $"--Harvest:BaseUrl={greenhouse.HarvestBaseUrl}",
            $"--Harvest:TokenUrl={greenhouse.TokenUrl}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        return app;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
