using System.Text;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Processing;
using Greenhouse.Receiver.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>Inbox + processor + mirror over a temp database, driven by a FakeTimeProvider (no host, no HTTP).</summary>
internal sealed class ProcessorHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();

    private ProcessorHarness(string root, ReceiverOptions options, FakeTimeProvider time, ICandidateHydrator[] hydrators)
    {
        Root = root;
        Options = options;
        Time = time;
        Metrics = new ReceiverMetrics();
        Mirror = new CandidateMirror();
        Inbox = new WebhookInbox(options, time, NullLogger<WebhookInbox>.Instance);
        Processor = new EventProcessor(options, Mirror, Inbox, Metrics, time, NullLogger<EventProcessor>.Instance, hydrators);
    }

    public string Root { get; }
    public ReceiverOptions Options { get; }
    public FakeTimeProvider Time { get; }
    public ReceiverMetrics Metrics { get; }
    public CandidateMirror Mirror { get; }
    public WebhookInbox Inbox { get; }
    public EventProcessor Processor { get; }

    public static async Task<ProcessorHarness> StartAsync(string? root = null, FakeTimeProvider? time = null, params ICandidateHydrator[] hydrators)
    {
        root ??= Directory.CreateTempSubdirectory("ghr-proc-").FullName;
        var secrets = Path.Combine(root, "secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "secret_key"), "s");
        var options = ReceiverOptionsLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhook:SecretsDirectory"] = secrets,
            ["Storage:DataDirectory"] = Path.Combine(root, "data"),
            ["Processing:MaxAttempts"] = "4",
            ["Processing:RetryBaseDelay"] = "00:00:10",
        }).Build());
        var harness = new ProcessorHarness(root, options, time ?? new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero)), hydrators);
        await harness.Inbox.StartAsync(harness._stop.Token);
        Assert.True(harness.Processor.TryLoad());
        return harness;
    }

    public async Task<InboxWriteResult> StoreAsync(string eventId, string json)
    {
        var action = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("action").GetString()!;
        return await Inbox.StoreAsync(eventId, action, Encoding.UTF8.GetBytes(json), CancellationToken.None);
    }

    public Task<int> ProcessAsync() => Processor.ProcessDueAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Inbox.StopAsync(CancellationToken.None);
        Inbox.Dispose();
        Processor.Dispose();
        _stop.Dispose();
    }

    public static string Update(long id, string email, string? firstName = null)
    {
        var name = firstName is null ? "null" : $"\"{firstName}\"";
        return "{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":" + id.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + ",\"first_name\":" + name + ",\"email_addresses\":[{\"value\":\"" + email + "\",\"type\":\"work\"}]}}}";
    }
}
