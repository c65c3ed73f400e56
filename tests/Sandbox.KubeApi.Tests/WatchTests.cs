using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Sandbox.KubeApi.Tests;

/// <summary>Scenarios 14 and 15: watch starting points, ordering, selector transitions, 410, bookmarks, timeouts.</summary>
public sealed class WatchTests : EmulatorTest
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    [Fact]
    public async Task Watch_without_resourceVersion_replays_existing_objects_then_streams_changes_in_order()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("old"));
        await using var watch = await RawWatch.OpenAsync(Http, ConfigMaps + "?watch=true");

        var first = await watch.NextAsync();
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("new"));
        await Http.DeleteJsonAsync(ConfigMaps + "/old");
        var second = await watch.NextAsync();
        var third = await watch.NextAsync();

        Assert.Equal(("ADDED", "old"), Describe(first));
        Assert.Equal(("ADDED", "new"), Describe(second));
        Assert.Equal(("DELETED", "old"), Describe(third));
        Assert.True(Rv(third) > Rv(second));
        Assert.Equal("ConfigMap", (string?)third["object"]!["kind"]);
    }

    [Fact]
    public async Task Watch_from_a_list_resourceVersion_sends_only_later_events_and_zero_replays_everything()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));
        var (_, list) = await Http.GetJsonAsync(ConfigMaps);
        var listRv = (string)list!["metadata"]!["resourceVersion"]!;
        await Http.PatchJsonAsync(ConfigMaps + "/a", JsonNode.Parse("""{"data":{"k":"2"}}""")!, "application/merge-patch+json");

        await using var resumed = await RawWatch.OpenAsync(Http, $"{ConfigMaps}?watch=true&resourceVersion={listRv}");
        await using var fromZero = await RawWatch.OpenAsync(Http, $"{ConfigMaps}?watch=1&resourceVersion=0");

        Assert.Equal(("MODIFIED", "a"), Describe(await resumed.NextAsync()));
        Assert.Equal(("ADDED", "a"), Describe(await fromZero.NextAsync()));
    }

    [Fact]
    public async Task Watch_of_one_name_from_zero_like_kubectl_get_name_w_sees_only_that_object()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("other"));
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("demo"));

        await using var watch = await RawWatch.OpenAsync(Http, $"{ConfigMaps}?fieldSelector=metadata.name%3Ddemo&resourceVersion=0&watch=true");
        await Http.PatchJsonAsync(ConfigMaps + "/other", JsonNode.Parse("""{"data":{"x":"1"}}""")!, "application/merge-patch+json");
        await Http.PatchJsonAsync(ConfigMaps + "/demo", JsonNode.Parse("""{"data":{"x":"1"}}""")!, "application/merge-patch+json");

        Assert.Equal(("ADDED", "demo"), Describe(await watch.NextAsync()));
        Assert.Equal(("MODIFIED", "demo"), Describe(await watch.NextAsync()));
    }

    [Fact]
    public async Task Compacted_history_gives_an_ERROR_event_with_a_410_Expired_Status_then_the_stream_ends()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));
        Server.Faults.CompactHistory();

        await using var watch = await RawWatch.OpenAsync(Http, $"{ConfigMaps}?watch=true&resourceVersion=1");
        var error = await watch.NextAsync();

        Assert.Equal("ERROR", (string?)error["type"]);
        Assert.Equal("Status", (string?)error["object"]!["kind"]);
        Assert.Equal(410, (int?)error["object"]!["code"]);
        Assert.Equal("Expired", (string?)error["object"]!["reason"]);
        Assert.StartsWith("too old resource version: 1 (", (string?)error["object"]!["message"]);
        Assert.Null(await watch.NextOrEndAsync());
    }

    [Fact]
    public async Task Label_change_moving_an_object_out_of_the_selector_is_seen_as_DELETED_and_back_in_as_ADDED()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a", labels: new() { ["app"] = "x" }));
        await using var watch = await RawWatch.OpenAsync(Http, $"{ConfigMaps}?watch=true&labelSelector=app%3Dx");
        Assert.Equal(("ADDED", "a"), Describe(await watch.NextAsync()));

        await Http.PatchJsonAsync(ConfigMaps + "/a", JsonNode.Parse("""{"metadata":{"labels":{"app":"y"}}}""")!, "application/merge-patch+json");
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("ignored", labels: new() { ["app"] = "y" }));
        await Http.PatchJsonAsync(ConfigMaps + "/a", JsonNode.Parse("""{"metadata":{"labels":{"app":"x"}}}""")!, "application/merge-patch+json");

        var left = await watch.NextAsync();
        Assert.Equal(("DELETED", "a"), Describe(left));
        Assert.Equal("y", (string?)left["object"]!["metadata"]!["labels"]!["app"]);
        Assert.Equal(("ADDED", "a"), Describe(await watch.NextAsync()));
    }

    [Fact]
    public async Task Quiet_watch_with_bookmarks_ends_with_a_bookmark_before_the_timeout()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));
        var (_, list) = await Http.GetJsonAsync(ConfigMaps);
        var rv = (string)list!["metadata"]!["resourceVersion"]!;

        await using var watch = await RawWatch.OpenAsync(Http, $"{ConfigMaps}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3");
        var bookmark = await watch.NextAsync();

        Assert.Equal("BOOKMARK", (string?)bookmark["type"]);
        Assert.Equal(rv, (string?)bookmark["object"]!["metadata"]!["resourceVersion"]);
        Assert.Equal("ConfigMap", (string?)bookmark["object"]!["kind"]);
        Assert.Null(bookmark["object"]!["metadata"]!["name"]);
        Assert.Null(await watch.NextOrEndAsync());
    }

    [Fact]
    public async Task Send_initial_events_ends_with_an_annotated_bookmark()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));

        await using var watch = await RawWatch.OpenAsync(Http, $"{ConfigMaps}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");

        Assert.Equal(("ADDED", "a"), Describe(await watch.NextAsync()));
        var end = await watch.NextAsync();
        Assert.Equal("BOOKMARK", (string?)end["type"]);
        Assert.Equal("true", (string?)end["object"]!["metadata"]!["annotations"]!["k8s.io/initial-events-end"]);
    }

    [Fact]
    public async Task KubernetesClient_typed_watch_sees_added_modified_deleted()
    {
        using var client = TestClients.Kubernetes(Server);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<(WatchEventType, string)>();
        var done = new TaskCompletionSource();
        var reader = Task.Run(async () =>
        {
            await foreach (var (type, cm) in client.CoreV1.WatchListNamespacedConfigMapAsync("default", cancellationToken: cts.Token))
            {
                seen.Add((type, cm.Metadata.Name));
                if (type == WatchEventType.Deleted)
                {
                    done.TrySetResult();
                    break;
                }
            }
        });
        await Eventually.True(() => Task.FromResult(Server.OpenWatchCount == 1), what: "watch open");

        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "w" } }, "default", cancellationToken: cts.Token);
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"a":"b"}}""", V1Patch.PatchType.MergePatch), "w", "default", cancellationToken: cts.Token);
        await client.CoreV1.DeleteNamespacedConfigMapAsync("w", "default", cancellationToken: cts.Token);
        await done.Task.WaitAsync(cts.Token);
        await reader;

        Assert.Equal([(WatchEventType.Added, "w"), (WatchEventType.Modified, "w"), (WatchEventType.Deleted, "w")], seen);
    }

    [Fact]
    public async Task KubernetesClient_watch_reports_410_through_onError_as_a_KubernetesException()
    {
        using var client = TestClients.Kubernetes(Server);
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));
        Server.Faults.ExpireNextWatch();
        Exception? error = null;

        await foreach (var _ in client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: "1", onError: e => error = e))
        {
            Assert.Fail("no event expected after 410");
        }

        var k = Assert.IsType<KubernetesException>(error);
        Assert.Equal(410, k.Status.Code);
        Assert.Equal("Expired", k.Status.Reason);
    }

    [Fact]
    public async Task Closing_watches_from_the_fault_injector_ends_open_streams()
    {
        await using var watch = await RawWatch.OpenAsync(Http, ConfigMaps + "?watch=true");
        await Eventually.True(() => Task.FromResult(Server.OpenWatchCount == 1), what: "watch open");

        Server.Faults.CloseWatches();

        Assert.Null(await watch.NextOrEndAsync());
        await Eventually.True(() => Task.FromResult(Server.OpenWatchCount == 0), what: "watch closed");
    }

    [Fact]
    public async Task Dropping_watch_connections_cuts_the_stream_with_a_read_error()
    {
        await using var watch = await RawWatch.OpenAsync(Http, ConfigMaps + "?watch=true");
        await Eventually.True(() => Task.FromResult(Server.OpenWatchCount == 1), what: "watch open");

        Server.Faults.DropWatchConnections();

        await Assert.ThrowsAnyAsync<IOException>(() => watch.NextOrEndAsync());
    }

    [Fact]
    public async Task Table_watch_sends_one_row_tables_like_kubectl_get_w_expects()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));

        await using var watch = await RawWatch.OpenAsync(Http, ConfigMaps + "?watch=true", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        var e = await watch.NextAsync();

        Assert.Equal("ADDED", (string?)e["type"]);
        Assert.Equal("Table", (string?)e["object"]!["kind"]);
        Assert.Equal("a", (string?)e["object"]!["rows"]![0]!["cells"]![0]);
    }

    private static (string?, string?) Describe(JsonNode e) => ((string?)e["type"], (string?)e["object"]!["metadata"]!["name"]);

    private static long Rv(JsonNode e) => long.Parse((string)e["object"]!["metadata"]!["resourceVersion"]!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads a watch stream line by line.</summary>
    private sealed class RawWatch : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;
        private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(15));

        private RawWatch(HttpResponseMessage response, StreamReader reader)
        {
            _response = response;
            _reader = reader;
        }

        public static async Task<RawWatch> OpenAsync(HttpClient http, string path, string? accept = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (accept is not null)
            {
                request.Headers.Accept.Clear();
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            return new RawWatch(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        public async Task<JsonNode> NextAsync() => await NextOrEndAsync() ?? throw new InvalidOperationException("watch ended early");

        public async Task<JsonNode?> NextOrEndAsync()
        {
            var line = await _reader.ReadLineAsync(_cts.Token);
            return line is null ? null : JsonNode.Parse(line);
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            _cts.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
