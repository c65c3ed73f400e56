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

        var inline = await harness.Inbox.StoreAndAnswerOnSyncThreadAsync("answer-thread-1", "update_candidate", body)
            .ContinueWith(t => (t.Result, Thread.CurrentThread.Name), TaskContinuationOptions.ExecuteSynchronously);
        var pooled = await harness.Inbox.StoreAsync("answer-thread-2", "update_candidate", body, CancellationToken.None)
            .ContinueWith(t => (t.Result, Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread), TaskContinuationOptions.ExecuteSynchronously);

        Assert.Equal((InboxWriteResult.Accepted, "webhook-inbox-fsync"), inline);
        Assert.Equal(InboxWriteResult.Accepted, pooled.Result);
        Assert.True(pooled.IsThreadPoolThread);
        Assert.NotEqual("webhook-inbox-fsync", pooled.Name);
    }
}
