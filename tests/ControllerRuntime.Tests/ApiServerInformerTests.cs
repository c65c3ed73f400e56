using System.Text;
using ControllerRuntime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using Sandbox.KubeApi;

namespace ControllerRuntime.Tests;

/// <summary>Informer and leader election over the emulated API server (real HTTP, real watch streams).</summary>
public sealed class ApiServerInformerTests
{
    [Fact]
    public async Task Informer_relists_when_its_watch_expires_and_misses_no_change()
    {
        await using var api = await KubeApiServer.StartAsync();
        using var client = Client(api);
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        var metrics = new ControllerMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));
        var informer = new Informer<V1ConfigMap>(ListWatches.For<V1ConfigMap>(client, "default"), new InformerOptions { ResyncPeriod = TimeSpan.Zero }, TimeProvider.System, NullLogger.Instance, metrics);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => api.OpenWatchCount == 1, "the informer watches");

        api.Faults.ExpireNextWatch();
        api.Faults.CloseWatches();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), "default");
        await client.CoreV1.DeleteNamespacedConfigMapAsync("a", "default");

        await Eventually.TrueAsync(() => informer.Get(new ObjectKey("default", "b")) is not null && informer.Get(new ObjectKey("default", "a")) is null, "the cache has b and not a");
        Assert.True(metrics.WatchRestarts.WithLabels("configmaps", "expired").Value >= 1);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Named_informers_cache_only_the_tracked_names_and_stop_watching_a_name_no_longer_tracked()
    {
        await using var api = await KubeApiServer.StartAsync();
        using var client = Client(api);
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("wanted"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("other"), "default");
        var named = new NamedInformers<V1ConfigMap>(
            "configmaps (by name)", key => ListWatches.For<V1ConfigMap>(client, key.Namespace, fieldSelector: $"metadata.name={key.Name}"),
            new InformerOptions { ResyncPeriod = TimeSpan.Zero }, TimeProvider.System, NullLogger.Instance);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        named.AddHandler(e => seen.Enqueue($"{e.Type} {e.Current.Metadata.Name}"));
        var wanted = new ObjectKey("default", "wanted");
        var missing = new ObjectKey("default", "missing");
        named.Track([wanted, missing]);
        Assert.False(named.TryGet(wanted, out _)); // not running yet: the caller reads by name
        using var stop = new CancellationTokenSource();
        var run = named.RunAsync(stop.Token);
        await named.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        await Eventually.TrueAsync(() => named.TryGet(wanted, out var found) && found is not null, "the tracked object is cached");
        await Eventually.TrueAsync(() => named.TryGet(missing, out var found) && found is null, "a tracked name that does not exist is known to be missing");
        await Eventually.TrueAsync(() => api.OpenWatchCount == 2, "one watch per name");
        Assert.False(named.TryGet(new ObjectKey("default", "other"), out _));
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"k\":\"changed\"}}", V1Patch.PatchType.MergePatch), "other", "default");
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"k\":\"changed\"}}", V1Patch.PatchType.MergePatch), "wanted", "default");
        await Eventually.TrueAsync(() => seen.Contains("Updated wanted"), "the tracked object's change is delivered");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("missing"), "default");
        await Eventually.TrueAsync(() => named.TryGet(missing, out var found) && found is not null, "a tracked name created later arrives");
        Assert.DoesNotContain(seen, e => e.EndsWith(" other", StringComparison.Ordinal));

        named.Track([missing]);
        Assert.Equal([missing], named.Tracked);
        Assert.False(named.TryGet(wanted, out _));
        await Eventually.TrueAsync(() => api.OpenWatchCount == 1, "the untracked name's watch ends");
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => api.OpenWatchCount == 0, "stopping ends every watch");
    }

    [Fact]
    public async Task Quiet_watches_end_and_resume_from_the_last_version_without_relisting()
    {
        await using var api = await KubeApiServer.StartAsync(new KubeApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(300) });
        using var client = Client(api);
        var informer = new Informer<V1ConfigMap>(ListWatches.For<V1ConfigMap>(client, "default"), new InformerOptions { ResyncPeriod = TimeSpan.Zero, WatchTimeout = TimeSpan.FromSeconds(1) }, TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        await Eventually.TrueAsync(() => api.Requests.Snapshot().Count(r => r.Verb == "watch" && r.Resource == "configmaps") >= 3, "the informer re-watched after timeouts");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("late"), "default");
        await Eventually.TrueAsync(() => informer.Get(new ObjectKey("default", "late")) is not null, "a change after the re-watches arrives");

        Assert.Equal(1, api.Requests.Snapshot().Count(r => r.Verb == "list" && r.Resource == "configmaps"));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Only_one_of_two_candidates_leads_and_the_other_takes_over_when_the_leader_stops()
    {
        await using var api = await KubeApiServer.StartAsync();
        using var clientA = Client(api);
        using var clientB = Client(api);
        var leading = 0;
        var maxLeading = 0;
        var ledBy = new List<string>();
        Func<CancellationToken, Task> Work(string who) => async ct =>
        {
            var now = Interlocked.Increment(ref leading);
            lock (ledBy)
            {
                ledBy.Add(who);
                maxLeading = Math.Max(maxLeading, now);
            }

            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref leading);
            }
        };

        var a = new LeaderElection(clientA, Options("a"), NullLogger.Instance);
        var b = new LeaderElection(clientB, Options("b"), NullLogger.Instance);
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var runA = a.RunAsync(Work("a"), stopA.Token);
        var runB = b.RunAsync(Work("b"), stopB.Token);

        await Eventually.TrueAsync(() => Volatile.Read(ref leading) == 1, "one candidate leads");
        var (first, stopFirst, runFirst, second) = a.IsLeader ? ("a", stopA, runA, b) : ("b", stopB, runB, a);
        await stopFirst.CancelAsync();
        await runFirst.WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => second.IsLeader && Volatile.Read(ref leading) == 1, "the other candidate takes over");

        Assert.Equal(1, maxLeading);
        Assert.Equal(first, ledBy[0]);
        Assert.NotEqual(first, ledBy[1]);
        await stopA.CancelAsync();
        await stopB.CancelAsync();
        await Task.WhenAll(runA, runB).WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static LeaderElectionOptions Options(string identity) => new()
    {
        LeaseNamespace = "default",
        LeaseName = "test-lock",
        Identity = identity,
        LeaseDuration = TimeSpan.FromSeconds(2),
        RenewDeadline = TimeSpan.FromSeconds(1.5),
        RetryPeriod = TimeSpan.FromMilliseconds(200),
    };

    private static V1ConfigMap ConfigMap(string name) => new() { Metadata = new V1ObjectMeta { Name = name }, Data = new Dictionary<string, string> { ["k"] = "v" } };

    private static Kubernetes Client(KubeApiServer api)
    {
        using var kubeconfig = new MemoryStream(Encoding.UTF8.GetBytes(api.KubeconfigYaml));
        return new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
    }
}
