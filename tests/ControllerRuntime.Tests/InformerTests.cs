using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ControllerRuntime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace ControllerRuntime.Tests;

/// <summary>Informer behaviour over a scripted list/watch source (the emulator tests cover the wire).</summary>
public sealed class InformerTests
{
    [Fact]
    public async Task List_then_watch_keeps_the_cache_and_index_current_and_resumes_from_the_last_version()
    {
        var source = new ScriptedSource();
        source.Lists.Enqueue(([Secret("a", "10", "x")], "10"));
        var (informer, events, run, stop) = Start(source);

        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var watch = await source.NextWatch();
        Assert.Equal("10", watch.ResourceVersion);

        await watch.Send(WatchEventType.Added, Secret("b", "11", "x"));
        await watch.Send(WatchEventType.Modified, Secret("a", "12", "y"));
        await watch.Send(WatchEventType.Bookmark, new V1Secret { Metadata = new V1ObjectMeta { ResourceVersion = "15" } });
        await Eventually.TrueAsync(() => informer.ResourceVersion == "12", "the modification is applied");
        watch.End();

        var resumed = await source.NextWatch();
        Assert.Equal("15", resumed.ResourceVersion);
        Assert.Equal(["b"], informer.ByIndex("label", "x").Select(s => s.Metadata.Name));
        Assert.Equal(["a"], informer.ByIndex("label", "y").Select(s => s.Metadata.Name));
        await resumed.Send(WatchEventType.Deleted, Secret("b", "16", "x"));
        await Eventually.TrueAsync(() => informer.Get(new ObjectKey("ns", "b")) is null, "the deletion is applied");

        Assert.Equal(
            [InformerEventType.Added, InformerEventType.Added, InformerEventType.Updated, InformerEventType.Deleted],
            events.Select(e => e.Type));
        Assert.Empty(informer.ByIndex("label", "x"));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Expired_watch_relists_and_reports_objects_deleted_in_between()
    {
        var source = new ScriptedSource();
        source.Lists.Enqueue(([Secret("a", "10", "x"), Secret("b", "10", "x")], "10"));
        source.Lists.Enqueue(([Secret("b", "20", "x")], "20"));
        var (informer, events, run, stop) = Start(source);

        var watch = await source.NextWatch();
        watch.Fail(new KubernetesException(new V1Status { Code = 410, Reason = "Expired", Message = "too old resource version" }));
        var afterRelist = await source.NextWatch();

        Assert.Equal("20", afterRelist.ResourceVersion);
        Assert.Null(informer.Get(new ObjectKey("ns", "a")));
        Assert.Equal("20", informer.Get(new ObjectKey("ns", "b"))!.Metadata.ResourceVersion);
        Assert.Contains(events, e => e.Type == InformerEventType.Deleted && e.Current.Metadata.Name == "a");
        Assert.Equal(1, source.Metrics.WatchRestarts.WithLabels("secrets", "expired").Value);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Failed_watch_reconnects_from_the_same_version_without_relisting()
    {
        var source = new ScriptedSource();
        source.Lists.Enqueue(([Secret("a", "10", "x")], "10"));
        var (_, _, run, stop) = Start(source);

        var watch = await source.NextWatch();
        watch.Fail(new KubernetesException(new V1Status { Code = 500, Reason = "InternalError" }));
        var retried = await source.NextWatch();

        Assert.Equal("10", retried.ResourceVersion);
        Assert.Equal(1, source.ListCalls);
        Assert.Equal(1, source.Metrics.WatchRestarts.WithLabels("secrets", "error").Value);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Every_cached_object_is_delivered_again_each_resync_period()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var source = new ScriptedSource();
        source.Lists.Enqueue(([Secret("a", "10", "x"), Secret("b", "10", "x")], "10"));
        var informer = new Informer<V1Secret>(source.ListWatch, new InformerOptions { ResyncPeriod = TimeSpan.FromMinutes(1) }, time, NullLogger.Instance);
        var resyncs = 0;
        informer.AddHandler(e =>
        {
            if (e.Type == InformerEventType.Resync)
            {
                Interlocked.Increment(ref resyncs);
            }
        });
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await source.NextWatch();

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, Volatile.Read(ref resyncs));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, Volatile.Read(ref resyncs));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(4, Volatile.Read(ref resyncs));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static (Informer<V1Secret> Informer, List<InformerEvent<V1Secret>> Events, Task Run, CancellationTokenSource Stop) Start(ScriptedSource source)
    {
        var options = new InformerOptions { ResyncPeriod = TimeSpan.Zero, InitialBackoff = TimeSpan.FromMilliseconds(1) };
        var informer = new Informer<V1Secret>(source.ListWatch, options, TimeProvider.System, NullLogger.Instance, source.Metrics);
        informer.AddIndex("label", s => s.Metadata.Labels?.Values ?? []);
        var events = new List<InformerEvent<V1Secret>>();
        informer.AddHandler(e =>
        {
            lock (events)
            {
                events.Add(e);
            }
        });
        var stop = new CancellationTokenSource();
        return (informer, events, informer.RunAsync(stop.Token), stop);
    }

    private static V1Secret Secret(string name, string resourceVersion, string label) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "ns", ResourceVersion = resourceVersion, Labels = new Dictionary<string, string> { ["l"] = label } },
    };

    private sealed class ScriptedSource
    {
        private readonly Channel<ScriptedWatch> _watches = Channel.CreateUnbounded<ScriptedWatch>();
        private int _listCalls;

        public ScriptedSource()
        {
            ListWatch = new ListWatch<V1Secret>(
                "secrets",
                _ =>
                {
                    Interlocked.Increment(ref _listCalls);
                    var (items, rv) = Lists.Dequeue();
                    return Task.FromResult<(IList<V1Secret>, string)>((items, rv));
                },
                (rv, _, onError, ct) =>
                {
                    var watch = new ScriptedWatch(rv, onError);
                    _watches.Writer.TryWrite(watch);
                    return watch.Events(ct);
                });
        }

        public Queue<(IList<V1Secret> Items, string ResourceVersion)> Lists { get; } = new();

        public ListWatch<V1Secret> ListWatch { get; }

        public ControllerMetrics Metrics { get; } = new(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()));

        public int ListCalls => Volatile.Read(ref _listCalls);

        public async Task<ScriptedWatch> NextWatch() =>
            await _watches.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    private sealed class ScriptedWatch(string resourceVersion, Action<Exception> onError)
    {
        private readonly Channel<(WatchEventType, V1Secret)> _events = Channel.CreateUnbounded<(WatchEventType, V1Secret)>();

        public string ResourceVersion { get; } = resourceVersion;

        public async Task Send(WatchEventType type, V1Secret secret) => await _events.Writer.WriteAsync((type, secret));

        public void End() => _events.Writer.TryComplete();

        // Like KubernetesClient: an ERROR line goes to onError, then the server closes the stream.
        public void Fail(Exception error)
        {
            onError(error);
            _events.Writer.TryComplete();
        }

        public async IAsyncEnumerable<(WatchEventType, V1Secret)> Events([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var item in _events.Reader.ReadAllAsync(cancellationToken))
            {
                yield return item;
            }
        }
    }
}
