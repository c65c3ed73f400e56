using ControllerRuntime;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace ControllerRuntime.Tests;

public sealed class ControllerManagerTests
{
    [Fact]
    public async Task An_informer_that_dies_is_restarted_counted_and_reported_until_it_lists_again()
    {
        var metrics = new ControllerMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));
        var informer = new FailingOnceInformer();
        var manager = new ControllerManager(NullLogger.Instance, metrics: metrics);
        manager.Add(informer);
        using var stop = new CancellationTokenSource();
        var run = manager.RunAsync(stop.Token);

        // The report is read once, inside the probe: the manager restarts the informer after its backoff,
        // and a second read could come after that restart cleared it.
        string[] reported = [];
        await Eventually.TrueAsync(() => informer.Runs == 1 && (reported = [.. manager.FailedInformers]).Length == 1, "the dead informer is reported");
        Assert.Equal(["things"], reported);
        informer.AllowRestart.TrySetResult();
        await Eventually.TrueAsync(() => informer.Runs == 2 && manager.FailedInformers.Count == 0, "the restarted informer listed and is healthy");

        Assert.Equal(1, metrics.InformerRestarts.WithLabels("things").Value);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private sealed class FailingOnceInformer : IInformer
    {
        private int _runs;
        private long _lists;

        public TaskCompletionSource AllowRestart { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Runs => Volatile.Read(ref _runs);

        public string Resource => "things";

        public bool HasSynced => Interlocked.Read(ref _lists) > 0;

        public long ListCount => Interlocked.Read(ref _lists);

        public Task WaitForSyncAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _runs) == 1)
            {
                await AllowRestart.Task.WaitAsync(TimeSpan.FromMilliseconds(1), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                throw new InvalidOperationException("decoder bug");
            }

            Interlocked.Increment(ref _lists);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
