using ControllerRuntime;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace ControllerRuntime.Tests;

public sealed class WorkQueueTests
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-29T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_key_added_several_times_is_handed_out_once()
    {
        using var queue = new WorkQueue<string>("test", _time);
        queue.Add("a");
        queue.Add("a");
        queue.Add("b");

        Assert.Equal(2, queue.Count);
        Assert.Equal("a", await queue.TakeAsync(CancellationToken.None).WaitAsync(Short));
        Assert.Equal("b", await queue.TakeAsync(CancellationToken.None).WaitAsync(Short));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task A_key_added_while_it_is_processed_is_handed_out_again_only_after_done()
    {
        using var queue = new WorkQueue<string>("test", _time);
        queue.Add("a");
        var key = await queue.TakeAsync(CancellationToken.None).WaitAsync(Short);

        queue.Add("a");
        Assert.Equal(0, queue.Count);
        var second = queue.TakeAsync(CancellationToken.None);
        Assert.False(second.IsCompleted);

        queue.Done(key);
        Assert.Equal("a", await second.WaitAsync(Short));
    }

    [Fact]
    public async Task Failed_keys_come_back_after_an_exponential_backoff_capped_at_the_maximum()
    {
        var options = new WorkQueueOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(5) };
        using var queue = new WorkQueue<string>("test", _time, options);

        Assert.Equal(TimeSpan.FromSeconds(1), queue.Backoff(1));
        Assert.Equal(TimeSpan.FromSeconds(2), queue.Backoff(2));
        Assert.Equal(TimeSpan.FromSeconds(4), queue.Backoff(3));
        Assert.Equal(TimeSpan.FromSeconds(5), queue.Backoff(4));
        Assert.Equal(TimeSpan.FromSeconds(5), queue.Backoff(50));

        queue.AddRateLimited("a");
        queue.AddRateLimited("a");
        Assert.Equal(2, queue.Failures("a"));
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0, queue.Count);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("a", await queue.TakeAsync(CancellationToken.None).WaitAsync(Short));

        queue.Forget("a");
        Assert.Equal(0, queue.Failures("a"));
    }

    [Fact]
    public void Delayed_add_waits_for_the_delay_and_the_earliest_schedule_wins()
    {
        using var queue = new WorkQueue<string>("test", _time);
        queue.AddAfter("a", TimeSpan.FromMinutes(10));
        queue.AddAfter("a", TimeSpan.FromMinutes(1));
        queue.AddAfter("a", TimeSpan.FromMinutes(5));

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, queue.Count);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public async Task Take_waits_until_a_key_arrives_and_honours_cancellation()
    {
        using var queue = new WorkQueue<string>("test", _time);
        using var cancel = new CancellationTokenSource();
        var waiting = queue.TakeAsync(cancel.Token);
        Assert.False(waiting.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Short));

        var next = queue.TakeAsync(CancellationToken.None);
        queue.Add("late");
        Assert.Equal("late", await next.WaitAsync(Short));
    }

    [Fact]
    public async Task Metrics_count_adds_retries_depth_and_durations()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new ControllerMetrics(Metrics.WithCustomRegistry(registry));
        using var queue = new WorkQueue<string>("integrations", _time, metrics: metrics);

        queue.Add("a");
        queue.Add("b");
        Assert.Equal(2, metrics.QueueDepth.WithLabels("integrations").Value);
        _time.Advance(TimeSpan.FromSeconds(3));
        var key = await queue.TakeAsync(CancellationToken.None).WaitAsync(Short);
        _time.Advance(TimeSpan.FromSeconds(2));
        queue.Done(key);
        queue.AddRateLimited(key);

        Assert.Equal(2, metrics.QueueAdds.WithLabels("integrations").Value);
        Assert.Equal(1, metrics.QueueRetries.WithLabels("integrations").Value);
        Assert.Equal(1, metrics.QueueDepth.WithLabels("integrations").Value);
        Assert.Equal(3, metrics.QueueLatency.WithLabels("integrations").Sum, precision: 3);
        Assert.Equal(2, metrics.WorkDuration.WithLabels("integrations").Sum, precision: 3);
    }
}
