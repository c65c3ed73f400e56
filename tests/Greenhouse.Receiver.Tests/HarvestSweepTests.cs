using Greenhouse.Receiver.Sync;
using Greenhouse.Receiver.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Greenhouse;

namespace Greenhouse.Receiver.Tests;

/// <summary>Sweeps of a receiver in Harvest mode against the Greenhouse simulator over loopback.</summary>
public sealed class HarvestSweepTests
{
    private static async Task<HarvestReceiver> StartLoadedAsync(Action<GreenhouseSimulatorOptions>? simulator = null)
    {
        var h = await HarvestReceiver.StartAsync(candidates: 30, simulator: simulator);
        await Eventually.TrueAsync(async () => (await h.HealthAsync()).LastFullSweepAt is not null, "the first full sweep loaded the mirror");
        return h;
    }

    private static SweepService Sweeps(HarvestReceiver h) => h.Receiver.Services.GetRequiredService<SweepService>();

    [Fact]
    public async Task First_full_sweep_loads_every_candidate_without_counting_drift()
    {
        await using var h = await StartLoadedAsync();
        Assert.Equal(30, h.Mirror.Count);
        Assert.All(h.Greenhouse.CandidateIds, id => Assert.True(h.MirrorMatchesGreenhouse(id), $"candidate {id}"));
        var health = await h.HealthAsync();
        Assert.Equal(0, health.DriftRepaired);
        Assert.NotNull(health.SweepWatermark);
        Assert.Contains("greenhouse_sync_last_sweep_timestamp_seconds{kind=\"full\"}", await h.Receiver.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dropped_deliveries_are_repaired_by_the_next_incremental_sweep_and_counted()
    {
        await using var h = await StartLoadedAsync();
        var changed = h.Greenhouse.CandidateIds[4];
        h.Greenhouse.UpdateCandidate(changed, c => c["title"] = "Head of Drift", WebhookSendMode.Drop);
        var created = h.Greenhouse.CreateCandidate("Dropped", "Delivery", "dropped@example.com", WebhookSendMode.Drop);
        Assert.Null(h.Mirror.Get(created));

        var result = await Sweeps(h).RunAsync(SweepKind.Incremental, CancellationToken.None);

        Assert.Equal(SweepKind.Incremental, result.Kind);
        Assert.Equal(2, result.Repaired);
        Assert.Equal("Head of Drift", h.Mirror.Get(changed)!.Title);
        Assert.True(h.MirrorMatchesGreenhouse(created));
        Assert.Equal(2, (await h.HealthAsync()).DriftRepaired);
        Assert.Contains("greenhouse_sync_drift_repaired_total 2", await h.Receiver.MetricsAsync(), StringComparison.Ordinal);

        // Nothing left to repair: a second sweep over the same window changes nothing.
        Assert.Equal(0, (await Sweeps(h).RunAsync(SweepKind.Incremental, CancellationToken.None)).Repaired);
    }

    [Fact]
    public async Task Candidate_deleted_in_Greenhouse_without_a_webhook_disappears_after_a_full_sweep()
    {
        await using var h = await StartLoadedAsync();
        var id = h.Greenhouse.CandidateIds[7];
        h.Greenhouse.DeleteCandidate(id, WebhookSendMode.None);

        Assert.Equal(0, (await Sweeps(h).RunAsync(SweepKind.Incremental, CancellationToken.None)).Deleted);
        Assert.NotNull(h.Mirror.Get(id));

        var result = await Sweeps(h).RunAsync(SweepKind.Full, CancellationToken.None);

        Assert.Equal(1, result.Deleted);
        Assert.Null(h.Mirror.Get(id));
        Assert.Equal(29, h.Mirror.Count);
        Assert.Equal(1, (await h.HealthAsync()).DriftRepaired);
    }

    [Fact]
    public async Task Watermark_survives_a_restart()
    {
        await using var h = await StartLoadedAsync();
        var before = (await h.HealthAsync()).SweepWatermark;
        var copy = CopyData(h.Receiver.Root, Directory.CreateTempSubdirectory("ghr-restart-").FullName);
        await using var again = await TestReceiver.StartAsync(
        [
            "--Harvest:Enabled=true", $"--Harvest:CredentialsDirectory={h.Credentials}", $"--Harvest:SyncUserId={h.Greenhouse.SyncUserId}",
            $"--Harvest:BaseUrl={h.Greenhouse.HarvestBaseUrl}", $"--Harvest:TokenUrl={h.Greenhouse.TokenUrl}",
        ], root: copy);
        var firstFullSweep = (await h.HealthAsync()).LastFullSweepAt;
        var requests = h.Greenhouse.Statistics.HarvestRequests;
        await Eventually.TrueAsync(async () => (await again.Health.GetSyncHealthAsync(new())).SweepWatermark == before, "the persisted watermark is reported");
        var health = await again.Health.GetSyncHealthAsync(new());
        // The restarted receiver knows its last full sweep and does not list Greenhouse again at start.
        Assert.Equal(firstFullSweep, health.LastFullSweepAt);
        Assert.Equal(30, health.Candidates);
        Assert.Equal(requests, h.Greenhouse.Statistics.HarvestRequests);
    }

    [Fact]
    public async Task Sweep_under_a_429_storm_waits_as_told_and_stays_within_the_learned_limit()
    {
        await using var h = await StartLoadedAsync(o => o.RateLimit = 200);
        h.Greenhouse.Faults.ThrottleRetryAfter = TimeSpan.FromMilliseconds(500);
        h.Greenhouse.Faults.ThrottleNext(3);
        var throttledBefore = h.Greenhouse.Statistics.Throttled;

        var result = await Sweeps(h).RunAsync(SweepKind.Full, CancellationToken.None);

        Assert.Equal(30, result.Examined);
        var stats = h.Greenhouse.Statistics;
        Assert.Equal(3, stats.Throttled - throttledBefore);
        Assert.Equal(0, stats.RequestsDuringPenalty);
        Assert.True(stats.MaxRequestsInAnyWindow <= 200, $"{stats.MaxRequestsInAnyWindow} requests in one window");
        Assert.True(result.Elapsed >= TimeSpan.FromMilliseconds(1400), $"waited only {result.Elapsed}");
        Assert.True((await h.HealthAsync()).Harvest.ThrottledResponses >= 3);
    }

    private static string CopyData(string from, string to)
    {
        var data = Path.Combine(to, "data");
        Directory.CreateDirectory(data);
        // The first receiver is still running: copy a consistent snapshot through SQLite's backup.
        using var source = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(from, "data", "receiver.db")};Pooling=False");
        using var target = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data, "receiver.db")};Pooling=False");
        source.Open();
        target.Open();
        source.BackupDatabase(target);
        return to;
    }
}
