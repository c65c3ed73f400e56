using System.Text;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;

namespace Greenhouse.Receiver.Tests;

public sealed class WebhookInboxAnswerThreadTests
{
    [Fact]
    public async Task The_endpoints_store_is_answered_on_the_fsync_thread_and_the_public_one_on_the_thread_pool()
    {
        await using var harness = await ProcessorHarness.StartAsync();
        var body = Encoding.UTF8.GetBytes(ProcessorHarness.Update(1, "a@example.com"));

        // A store that completed before the continuation was attached runs it on this thread: only stores
        // still waiting for their sync at that point say where the answer runs.
        (InboxWriteResult Result, string? Name) inline = default;
        for (var attempt = 0; attempt < 50 && inline.Name is null; attempt++)
        {
            var store = harness.Inbox.StoreAndAnswerOnSyncThreadAsync($"answer-thread-{attempt}", "update_candidate", body);
            var answered = store.ContinueWith(t => (t.Result, Thread.CurrentThread.Name), TaskContinuationOptions.ExecuteSynchronously);
            var waited = !store.IsCompleted;
            var result = await answered;
            if (waited && store.IsCompleted && result.Name != Thread.CurrentThread.Name)
            {
                inline = result;
            }
        }
        var pooled = await harness.Inbox.StoreAsync("answer-thread-pool", "update_candidate", body, CancellationToken.None)
            .ContinueWith(t => (t.Result, Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread), TaskContinuationOptions.ExecuteSynchronously);

        Assert.Equal((InboxWriteResult.Accepted, "webhook-inbox-fsync"), inline);
        Assert.Equal(InboxWriteResult.Accepted, pooled.Result);
        Assert.True(pooled.IsThreadPoolThread);
        Assert.NotEqual("webhook-inbox-fsync", pooled.Name);
    }
}
