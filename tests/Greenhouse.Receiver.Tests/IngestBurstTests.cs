using System.Net;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Greenhouse.Receiver.Tests;

/// <summary>
/// A burst of concurrent deliveries against the real host: the processor backs off while
/// deliveries are in flight (pipelined fsync, group commit), then catches up with nothing lost
/// and nothing applied twice.
/// </summary>
public sealed class IngestBurstTests
{
    [Fact]
    public async Task Burst_of_concurrent_deliveries_is_all_accepted_and_each_event_applied_exactly_once()
    {
        const int events = 400;
        await using var receiver = await TestReceiver.StartAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, events).Select(i =>
            receiver.SendAsync(ProcessorHarness.Update(7_000 + i, $"burst{i}@example.com"), eventId: $"burst-{i}")));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.All(await Task.WhenAll(answers.Select(a => a.Content.ReadAsStringAsync())), body => Assert.Equal("""{"result":"accepted"}""", body));

        var inbox = receiver.Services.GetRequiredService<WebhookInbox>();
        Assert.Equal(0, inbox.DeliveriesInFlight);
        var mirror = receiver.Services.GetRequiredService<CandidateMirror>();
        var statistics = receiver.Services.GetRequiredService<InboxStatistics>();
        await Eventually.TrueAsync(() => mirror.Count == events && statistics.Read() is { Pending: 0 }, "the processor has caught up with the burst");

        using var db = new SqliteConnection($"Data Source={Path.Combine(receiver.Root, "data", ReceiverDatabase.FileName)};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT (SELECT COUNT(*) FROM inbox WHERE state = 1), (SELECT COUNT(*) FROM changes), (SELECT COUNT(DISTINCT candidate_id) FROM changes)";
        using var reader = count.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(events, reader.GetInt32(0));
        Assert.Equal(events, reader.GetInt32(1));
        Assert.Equal(events, reader.GetInt32(2));
    }

    [Fact]
    public async Task Repeated_event_ids_in_one_burst_are_stored_once_and_answered_duplicate_after_the_first()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var first = await receiver.SendAsync(ProcessorHarness.Update(8_001, "once@example.com"), eventId: "same-id");
        Assert.Equal("""{"result":"accepted"}""", await first.Content.ReadAsStringAsync());
        var again = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            receiver.SendAsync(ProcessorHarness.Update(8_001, "once@example.com"), eventId: "same-id")));
        Assert.All(await Task.WhenAll(again.Select(a => a.Content.ReadAsStringAsync())), body => Assert.Equal("""{"result":"duplicate"}""", body));
        Assert.Equal(0, receiver.Services.GetRequiredService<WebhookInbox>().DeliveriesInFlight);
    }
}
