using System.Diagnostics;
using System.Net;
using System.Text;
using Greenhouse.Receiver.Tests.Support;
using Greenhouse.Receiver.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Greenhouse.Receiver.Tests;

/// <summary>What an anonymous client on the public port can hold: time, bytes and connections (real Kestrel on 127.0.0.1).</summary>
[Collection(HeapMeasuringTests.Name)]
public sealed class IngestLimitTests
{
    private static string ChunkedHeaders => "POST /webhooks/greenhouse HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

    private static int PortOf(TestReceiver receiver) => receiver.Public.BaseAddress!.Port;

    [Fact]
    public async Task Fifty_slow_4MB_bodies_are_cut_at_the_read_deadline_while_signed_deliveries_keep_getting_200()
    {
        var deadline = TimeSpan.FromSeconds(3);
        await using var receiver = await TestReceiver.StartAsync(["--Webhook:BodyReadTimeout=00:00:03"]);
        var budget = receiver.Services.GetRequiredService<UnverifiedBodyBudget>();
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        // 4 MB each at ~80 KB/s: without a deadline each would hold its connection for almost a minute.
        var attackers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => RawHttp.ConnectAsync(PortOf(receiver))));
        var attacks = attackers.Select(a => a.SendSlowlyAsync(ChunkedHeaders, 4_000_000, 8192, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30))).ToList();
        var peak = 0L;
        var statuses = new List<HttpStatusCode>();
        var i = 0;
        while (!attacks.All(a => a.IsCompleted))
        {
            peak = Math.Max(peak, budget.Bytes);
            using var response = await receiver.SendAsync(ProcessorHarness.Update(900 + i, $"during{i}@example.com"), $"during-{i}");
            statuses.Add(response.StatusCode);
            i++;
            await Task.WhenAny(Task.WhenAll(attacks), Task.Delay(100));
        }
        var results = await Task.WhenAll(attacks);
        foreach (var attacker in attackers)
        {
            await attacker.DisposeAsync();
        }

        Assert.True(statuses.Count >= 10, $"only {statuses.Count} signed deliveries were sent during the attack");
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(results, r =>
        {
            Assert.StartsWith("HTTP/1.1 408", r.Answer, StringComparison.Ordinal);
            Assert.True(r.After < deadline + TimeSpan.FromSeconds(2), $"a slow body was answered only after {r.After}");
            // Kestrel discards what still arrives for at most 5 s (its fixed drain time) before it closes.
            Assert.True(r.ClosedAfter < deadline + TimeSpan.FromSeconds(8), $"a slow body's connection was closed only after {r.ClosedAfter}");
        });
        Assert.True(peak <= budget.Limit, $"{peak} unverified bytes held");
        Assert.Equal(0, budget.Bytes);
        // What the slow bodies had sent (~12 MB in all) is not kept once they are cut.
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(heapAfter - heapBefore < 32L * 1024 * 1024, $"managed heap grew by {(heapAfter - heapBefore) / 1024 / 1024} MiB");
    }

    [Fact]
    public async Task Unverified_bytes_past_the_shared_budget_are_answered_503_with_retry_after_until_they_are_released()
    {
        await using var receiver = await TestReceiver.StartAsync(["--Webhook:MaxBodyBytes=60000", "--Webhook:MaxUnverifiedBytes=65536"]);
        var budget = receiver.Services.GetRequiredService<UnverifiedBodyBudget>();
        var holder = await RawHttp.ConnectAsync(PortOf(receiver));
        await holder.SendAsync("POST /webhooks/greenhouse HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\nContent-Length: 59000\r\n\r\n{\"action\":");
        await Eventually.TrueAsync(() => budget.Bytes == 59000, "the declared body is reserved");

        var padded = "{\"action\":\"job_created\",\"pad\":\"" + new string('x', 10_000) + "\"}";
        using (var refused = await receiver.SendAsync(padded, "budget-1"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(30), refused.Headers.RetryAfter?.Delta);
        }
        await holder.DisposeAsync();
        await Eventually.TrueAsync(() => budget.Bytes == 0, "the abandoned body's reservation is released");
        using var accepted = await receiver.SendAsync(padded, "budget-1");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Connections_past_the_cap_are_answered_503_and_closed_and_the_api_port_is_not_affected()
    {
        await using var receiver = await TestReceiver.StartAsync(["--Webhook:MaxConnections=2"]);
        var limit = receiver.Services.GetRequiredService<PublicConnectionLimit>();
        var idle = new[] { await RawHttp.ConnectAsync(PortOf(receiver)), await RawHttp.ConnectAsync(PortOf(receiver)) };
        await Eventually.TrueAsync(() => limit.Open == 2, "both idle connections are open");

        await using (var third = await RawHttp.ConnectAsync(PortOf(receiver)))
        {
            var answer = await third.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));
            Assert.StartsWith("HTTP/1.1 503", answer, StringComparison.Ordinal);
            Assert.Contains("Retry-After: 5", answer, StringComparison.Ordinal);
        }
        using (var metrics = await receiver.Api.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }
        foreach (var connection in idle)
        {
            await connection.DisposeAsync();
        }
        await Eventually.TrueAsync(() => limit.Open == 0, "the idle connections are closed");
        using var accepted = await receiver.SendAsync(ProcessorHarness.Update(2, "cap@example.com"), "cap-1");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Default_body_limit_is_1_MiB()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var big = Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"pad\":\"" + new string('x', 1024 * 1024) + "\"}");
        using var response = await receiver.SendAsync(big, "big-1");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData("7c2b0f0e-3b1a-4c55-9f10-1a2b3c4d5e6f", true)]
    [InlineData("gh:event.123_A-b", true)]
    [InlineData("with space", false)]
    [InlineData("esc\u001b[31mred", false)]
    [InlineData("new\nline", false)]
    [InlineData("caf\u00e9", false)]
    public void Event_id_is_kept_only_in_the_accepted_alphabet_and_otherwise_hashed(string header, bool kept)
    {
        var body = "{}"u8.ToArray();
        var id = WebhookEventId.From(header, body);
        if (kept)
        {
            Assert.Equal(header, id);
        }
        else
        {
            Assert.NotEqual(header, id);
            Assert.True(WebhookEventId.IsAcceptable(id), id);
            Assert.Equal(id, WebhookEventId.From(header, "{\"other\":1}"u8));
        }
        Assert.False(WebhookEventId.IsAcceptable(new string('a', 201)));
    }
}
