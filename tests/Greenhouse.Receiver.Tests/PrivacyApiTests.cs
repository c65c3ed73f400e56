using System.Net;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Receiver.Tests.Support;
using Grpc.Core;

namespace Greenhouse.Receiver.Tests;

/// <summary>The delete promise as a client sees it: signed deliveries over HTTP, the mirror and the change stream over gRPC.</summary>
public sealed class PrivacyApiTests
{
    [Fact]
    public async Task Old_signed_update_resent_with_a_new_event_id_after_a_delete_leaves_the_candidate_deleted_and_the_stream_from_0_without_its_data()
    {
        await using var receiver = await TestReceiver.StartAsync();
        const string email = "resent.after.delete@example.com";
        var update = ProcessorHarness.Update(9001, email, "Ronald");
        using (var first = await receiver.SendAsync(update, "evt-update-1"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        using (var delete = await receiver.SendAsync("""{"action":"delete_candidate","payload":{"person":{"id":9001}}}""", "evt-delete-1"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }
        using (var resent = await receiver.SendAsync(update, "evt-update-1-retry"))
        {
            Assert.Equal("""{"result":"accepted"}""", await resent.Content.ReadAsStringAsync());
        }
        await Eventually.TrueAsync(async () => (await receiver.Health.GetSyncHealthAsync(new GetSyncHealthRequest())).EventsProcessed >= 3, "all three events are processed");

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await receiver.Candidates.GetAsync(new GetCandidateRequest { Id = 9001 }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Empty((await receiver.Candidates.LookupAsync(new LookupCandidatesRequest { Email = { email } })).Matches);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var watch = receiver.Candidates.WatchChanges(new WatchChangesRequest { AfterChangeNumber = 0 }, cancellationToken: deadline.Token);
        var changes = new List<CandidateChange>();
        while (changes.Count < 2 && await watch.ResponseStream.MoveNext(deadline.Token))
        {
            changes.Add(watch.ResponseStream.Current);
        }
        Assert.Equal([ChangeKind.Upserted, ChangeKind.Deleted], changes.Select(c => c.Kind));
        Assert.All(changes, c => Assert.Null(c.Candidate));
        Assert.Contains("greenhouse_candidate_updates_ignored_total{reason=\"deleted\"} 1", await receiver.MetricsAsync(), StringComparison.Ordinal);
    }
}
