using System.Text;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Processing;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Sync;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>Inbox + processor + mirror over a temp database, driven by a FakeTimeProvider (no host, no HTTP).</summary>
internal sealed class ProcessorHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();

    private ProcessorHarness(string root, ReceiverOptions options, FakeTimeProvider time, ICandidateHydrator? hydrator)
    {
        Root = root;
        Options = options;
        Time = time;
        Metrics = new ReceiverMetrics();
        Records = new CandidateRecordReader(options);
        Mirror = new CandidateMirror(Records);
        Inbox = new WebhookInbox(options, time, NullLogger<WebhookInbox>.Instance);
        Events = new InboxStore(options);
        HydrationQueue = new HydrationQueueStore(options, Inbox);
        Maintenance = new DatabaseMaintenance(options, Inbox, time, NullLogger<DatabaseMaintenance>.Instance);
        Store = new MirrorStore(options, Mirror, Inbox, Tombstones, HydrationQueue, Maintenance, Metrics, time, NullLogger<MirrorStore>.Instance);
        Processor = new EventProcessor(options, Mirror, Inbox, Events, Store, Maintenance, Tombstones, Metrics, time, NullLogger<EventProcessor>.Instance);
        if (hydrator is not null)
        {
            Hydration = new HydrationWorker(options, hydrator, Store, HydrationQueue, Mirror, SyncStatus, time, NullLogger<HydrationWorker>.Instance);
        }
    }

    public SyncStatus SyncStatus { get; } = new();

    public TombstoneStore Tombstones { get; } = new();

    /// <summary>Present when started with a hydrator (Harvest mode).</summary>
    public HydrationWorker? Hydration { get; }

    public string Root { get; }
    public ReceiverOptions Options { get; }
    public FakeTimeProvider Time { get; }
    public ReceiverMetrics Metrics { get; }
    public CandidateMirror Mirror { get; }
    public WebhookInbox Inbox { get; }
    public EventProcessor Processor { get; }
    public InboxStore Events { get; }
    public CandidateRecordReader Records { get; }
    public HydrationQueueStore HydrationQueue { get; }
    public DatabaseMaintenance Maintenance { get; }
    public MirrorStore Store { get; }

    /// <summary>Commits <paramref name="changes"/> as Harvest sync does (no inbox event behind them).</summary>
    public Task<IReadOnlyList<MirrorChange>> ApplySyncChangesAsync(params MirrorChange[] changes)
    {
        var batch = new MirrorBatch();
        foreach (var change in changes)
        {
            batch.Apply(change);
        }
        return Store.CommitAsync(batch);
    }

    /// <summary>Starts over a temp folder; with a <paramref name="hydrator"/>, in Harvest mode with a hydration worker.</summary>
    public static async Task<ProcessorHarness> StartAsync(string? root = null, FakeTimeProvider? time = null, ICandidateHydrator? hydrator = null)
    {
        root ??= Directory.CreateTempSubdirectory("ghr-proc-").FullName;
        var secrets = Path.Combine(root, "secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "secret_key"), "s");
        var settings = new Dictionary<string, string?>
        {
            ["Webhook:SecretsDirectory"] = secrets,
            ["Storage:DataDirectory"] = Path.Combine(root, "data"),
            ["Processing:MaxAttempts"] = "4",
            ["Processing:RetryBaseDelay"] = "00:00:10",
        };
        if (hydrator is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(secrets, "client_id"), "id");
            await File.WriteAllTextAsync(Path.Combine(secrets, "client_secret"), "secret");
            settings["Harvest:Enabled"] = "true";
            settings["Harvest:CredentialsDirectory"] = secrets;
            settings["Harvest:SyncUserId"] = "4080";
            settings["Sync:HydrationDebounce"] = "00:00:01";
            settings["Sync:HydrationMaxDelay"] = "00:00:05";
        }
        var options = ReceiverOptionsLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        var harness = new ProcessorHarness(root, options, time ?? new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero)), hydrator);
        await harness.Inbox.StartAsync(harness._stop.Token);
        Assert.True(harness.Store.TryLoad());
        return harness;
    }

    public async Task<InboxWriteResult> StoreAsync(string eventId, string json)
    {
        var action = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("action").GetString()!;
        return await Inbox.StoreAsync(eventId, action, Encoding.UTF8.GetBytes(json), CancellationToken.None);
    }

    public Task<int> ProcessAsync() => Processor.ProcessDueAsync(CancellationToken.None);

    public Task<int> HydrateAsync() => Hydration!.HydrateDueAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Inbox.StopAsync(CancellationToken.None);
        Inbox.Dispose();
        Processor.Dispose();
        Hydration?.Dispose();
        Events.Dispose();
        HydrationQueue.Dispose();
        Maintenance.Dispose();
        Store.Dispose();
        Records.Dispose();
        _stop.Dispose();
    }

    public static string Update(long id, string email, string? firstName = null)
    {
        var name = firstName is null ? "null" : $"\"{firstName}\"";
        return "{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":" + id.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + ",\"first_name\":" + name + ",\"email_addresses\":[{\"value\":\"" + email + "\",\"type\":\"work\"}]}}}";
    }
}
