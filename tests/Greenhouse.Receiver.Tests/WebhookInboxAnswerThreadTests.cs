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
        // still waiting for their sync after it was attached say where the answer runs. The test resumes
        // elsewhere each time, never on the thread that answered (which would then run the test).
        (InboxWriteResult Result, string? Name)? answered = null;
        for (var attempt = 0; attempt < 50 && answered is null; attempt++)
        {
            var store = harness.Inbox.StoreAndAnswerOnSyncThreadAsync($"answer-thread-{attempt}", "update_candidate", body);
            var continuation = store.ContinueWith(
                t => (t.Result, Thread.CurrentThread.Name),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            var waited = !store.IsCompleted;
            var result = await continuation.ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.ForceYielding);
            if (waited)
            {
                answered = result;
            }
        }
        var pooled = await harness.Inbox.StoreAsync("answer-thread-pool", "update_candidate", body, CancellationToken.None)
            .ContinueWith(
                t => (t.Result, Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default)
            .ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.ForceYielding);

        Assert.NotNull(answered);
        Assert.Equal((InboxWriteResult.Accepted, "webhook-inbox-fsync"), answered.Value);
        Assert.Equal(InboxWriteResult.Accepted, pooled.Result);
        Assert.True(pooled.IsThreadPoolThread);
        Assert.NotEqual("webhook-inbox-fsync", pooled.Name);
    }
}
