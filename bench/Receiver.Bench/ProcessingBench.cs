using System.Diagnostics;
using Greenhouse.Receiver;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Processing;
using Greenhouse.Receiver.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Receiver.Bench;

/// <summary>How fast stored events are applied to the mirror (background work that shares the CPU with ingest).</summary>
internal static class ProcessingBench
{
    /// <param name="byType">Also print which types the processor's allocations were (sampled by the runtime about every 100 KB).</param>
    public static async Task RunAsync(string root, IReadOnlyList<(byte[] Body, string Signature)> bodies, int events, bool byType = false)
    {
        var secrets = Path.Combine(root, "secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "secret_key"), "s");
        var options = ReceiverOptionsLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhook:SecretsDirectory"] = secrets,
            ["Storage:DataDirectory"] = Path.Combine(root, "data"),
        }).Build());
        using var stop = new CancellationTokenSource();
        using var inbox = new WebhookInbox(options, TimeProvider.System, NullLogger<WebhookInbox>.Instance);
        await inbox.StartAsync(stop.Token);
        using var records = new CandidateRecordReader(options);
        var mirror = new CandidateMirror(records);
        var tombstones = new TombstoneStore();
        var metrics = new ReceiverMetrics();
        using var inboxStore = new InboxStore(options);
        using var hydration = new HydrationQueueStore(options, inbox);
        using var maintenance = new DatabaseMaintenance(options, inbox, TimeProvider.System, NullLogger<DatabaseMaintenance>.Instance);
        using var mirrorStore = new MirrorStore(options, mirror, inbox, tombstones, hydration, maintenance, metrics, TimeProvider.System, NullLogger<MirrorStore>.Instance);
        using var processor = new EventProcessor(options, mirror, inbox, inboxStore, mirrorStore, maintenance, tombstones, metrics, TimeProvider.System, NullLogger<EventProcessor>.Instance);

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var collections = (GC.CollectionCount(0), GC.CollectionCount(1));
        var store = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, events), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
            await inbox.StoreAsync($"p{i}", "update_candidate", bodies[i % bodies.Count].Body, CancellationToken.None));
        var stored = store.Elapsed;
        var storeAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var storeCollections = (GC.CollectionCount(0) - collections.Item1, GC.CollectionCount(1) - collections.Item2);
        allocated = GC.GetTotalAllocatedBytes(precise: true);
        collections = (GC.CollectionCount(0), GC.CollectionCount(1));

        using var sampler = byType ? new AllocationSampler { On = true } : null;
        var apply = Stopwatch.StartNew();
        var applied = 0;
        int handled;
        while ((handled = await processor.ProcessDueAsync(CancellationToken.None)) > 0)
        {
            applied += handled;
        }
        if (sampler is not null)
        {
            sampler.On = false;
            Console.WriteLine("  the processor's allocations by type (share of the bytes):");
            sampler.Print(top: 12);
        }
        var applyAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var applyCollections = (GC.CollectionCount(0) - collections.Item1, GC.CollectionCount(1) - collections.Item2);
        Console.WriteLine($"stored {events:N0} events with group commit (64 writers, no HTTP) at {events / stored.TotalSeconds:F0}/s; applied {applied:N0} to the mirror at {applied / apply.Elapsed.TotalSeconds:F0} events/s");
        // What each event costs the GC: every gen0 collection pauses the request threads too.
        Console.WriteLine($"  managed allocation per event: storing {storeAllocated / 1024.0 / events:F1} KB ({storeCollections.Item1} gen0 / {storeCollections.Item2} gen1 collections), applying {applyAllocated / 1024.0 / Math.Max(1, applied):F1} KB ({applyCollections.Item1} gen0 / {applyCollections.Item2} gen1)");
        await stop.CancelAsync();
        await inbox.StopAsync(CancellationToken.None);
    }
}
