using System.Collections.Concurrent;
using ControllerRuntime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ControllerRuntime.Tests;

public sealed class ControllerTests
{
    [Fact]
    public async Task Same_key_is_never_reconciled_twice_at_once_and_concurrency_is_bounded()
    {
        var reconciler = new GatedReconciler();
        using var controller = new Controller("test", reconciler, new ControllerOptions { Concurrency = 2 }, TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);

        controller.Queue.Add(Key("a"));
        controller.Queue.Add(Key("b"));
        controller.Queue.Add(Key("c"));
        await Eventually.TrueAsync(() => reconciler.InFlight == 2, "two reconciles run");
        controller.Queue.Add(Key("a"));
        controller.Queue.Add(Key("b"));
        reconciler.Gate.SetResult();
        await Eventually.TrueAsync(() => reconciler.Calls.Count == 5, "every queued key was reconciled");

        Assert.Equal(2, reconciler.MaxInFlight);
        Assert.Equal(1, reconciler.MaxInFlightPerKey);
        Assert.Equal(2, reconciler.Calls.Count(k => k == Key("a")));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Failed_reconcile_is_retried_with_backoff_and_requeue_after_schedules_the_next_run()
    {
        var time = new FakeTimeProvider();
        var attempts = 0;
        var reconciler = new DelegateReconciler(_ => ++attempts switch
        {
            1 => throw new InvalidOperationException("first attempt fails"),
            2 => ReconcileResult.After(TimeSpan.FromMinutes(1)),
            _ => ReconcileResult.Done,
        });
        var options = new ControllerOptions { Concurrency = 1, Queue = new WorkQueueOptions { BaseDelay = TimeSpan.FromSeconds(2) } };
        using var controller = new Controller("test", reconciler, options, time, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);

        controller.Queue.Add(Key("a"));
        await Eventually.TrueAsync(() => Volatile.Read(ref attempts) == 1, "the first attempt ran");
        await Eventually.TrueAsync(() => controller.Queue.Failures(Key("a")) == 1, "the failure was recorded");
        time.Advance(TimeSpan.FromSeconds(2));
        await Eventually.TrueAsync(() => Volatile.Read(ref attempts) == 2, "the retry ran after the backoff");
        await Eventually.TrueAsync(() => controller.Queue.Failures(Key("a")) == 0, "success cleared the failures");
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(2, Volatile.Read(ref attempts));
        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => Volatile.Read(ref attempts) == 3, "the requested requeue ran");

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static ObjectKey Key(string name) => new("ns", name);

    private sealed class GatedReconciler : IReconciler
    {
        private readonly ConcurrentDictionary<ObjectKey, int> _perKey = new();
        private int _inFlight;
        private int _maxInFlight;
        private int _maxPerKey;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<ObjectKey> Calls { get; } = new();

        public int InFlight => Volatile.Read(ref _inFlight);

        public int MaxInFlight => Volatile.Read(ref _maxInFlight);

        public int MaxInFlightPerKey => Volatile.Read(ref _maxPerKey);

        public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _maxInFlight, now);
            InterlockedMax(ref _maxPerKey, _perKey.AddOrUpdate(key, 1, (_, n) => n + 1));
            try
            {
                await Gate.Task.WaitAsync(cancellationToken);
                return ReconcileResult.Done;
            }
            finally
            {
                _perKey.AddOrUpdate(key, 0, (_, n) => n - 1);
                Interlocked.Decrement(ref _inFlight);
                Calls.Enqueue(key);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int current;
            while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }

    private sealed class DelegateReconciler(Func<ObjectKey, ReconcileResult> reconcile) : IReconciler
    {
        public Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken) => Task.FromResult(reconcile(key));
    }
}
