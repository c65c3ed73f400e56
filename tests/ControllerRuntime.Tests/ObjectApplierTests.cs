using System.Text;
using ControllerRuntime;
using k8s;
using k8s.Models;
using Sandbox.KubeApi;

namespace ControllerRuntime.Tests;

/// <summary>Server-side apply through <see cref="ObjectApplier"/> against the emulated API server.</summary>
public sealed class ObjectApplierTests
{
    private const string Hash = "example.com/applied-hash";

    [Fact]
    public async Task A_key_dropped_from_the_desired_object_is_removed_and_an_unchanged_object_is_not_written()
    {
        await using var api = await KubeApiServer.StartAsync();
        using var client = Client(api);
        var applier = new ObjectApplier(client, "test-operator", Hash);

        var first = await applier.ApplyAsync(ConfigMap(("a", "1"), ("b", "2")), null, CancellationToken.None);
        Assert.Equal(ApplyOutcome.Applied, first.Outcome);
        var second = await applier.ApplyAsync(ConfigMap(("a", "1")), first.Written, CancellationToken.None);
        Assert.Equal(ApplyOutcome.Applied, second.Outcome);

        var live = await client.CoreV1.ReadNamespacedConfigMapAsync("cm", "default");
        Assert.Equal(["a"], live.Data.Keys);
        var writes = api.Requests.Snapshot().Count(r => r.IsWrite);
        var third = await applier.ApplyAsync(ConfigMap(("a", "1")), live, CancellationToken.None);
        Assert.Equal(ApplyOutcome.Unchanged, third.Outcome);
        Assert.Equal(writes, api.Requests.Snapshot().Count(r => r.IsWrite));
    }

    [Fact]
    public async Task A_field_changed_by_someone_else_is_taken_back()
    {
        await using var api = await KubeApiServer.StartAsync();
        using var client = Client(api);
        var applier = new ObjectApplier(client, "test-operator", Hash);
        var first = await applier.ApplyAsync(ConfigMap(("a", "1")), null, CancellationToken.None);
        var edited = await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"a":"edited"}}""", V1Patch.PatchType.MergePatch), "cm", "default", fieldManager: "kubectl-edit");

        var again = await applier.ApplyAsync(ConfigMap(("a", "1")), edited, CancellationToken.None);

        Assert.Equal(ApplyOutcome.Applied, again.Outcome);
        Assert.Equal("1", (await client.CoreV1.ReadNamespacedConfigMapAsync("cm", "default")).Data["a"]);
        Assert.NotNull(first.Written);
    }

    [Fact]
    public async Task An_existing_object_of_someone_else_is_reported_as_a_name_conflict_and_left_alone()
    {
        await using var api = await KubeApiServer.StartAsync();
        using var client = Client(api);
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "cm" }, Data = new Dictionary<string, string> { ["a"] = "theirs" } }, "default", fieldManager: "kubectl-create");
        var applier = new ObjectApplier(client, "test-operator", Hash);

        var result = await applier.ApplyAsync(ConfigMap(("a", "1")), null, CancellationToken.None);

        Assert.Equal(ApplyOutcome.NameConflict, result.Outcome);
        Assert.Contains("kubectl-create", result.Message, StringComparison.Ordinal);
        var live = await client.CoreV1.ReadNamespacedConfigMapAsync("cm", "default");
        Assert.Equal("theirs", live.Data["a"]);
        Assert.Null(live.Metadata.Labels);
    }

    [Fact]
    public async Task Delete_with_a_stale_uid_leaves_the_newer_object()
    {
        await using var api = await KubeApiServer.StartAsync();
        using var client = Client(api);
        var applier = new ObjectApplier(client, "test-operator", Hash);
        await applier.ApplyAsync(ConfigMap(("a", "1")), null, CancellationToken.None);

        Assert.False(await applier.DeleteAsync<V1ConfigMap>(new ObjectKey("default", "cm"), "not-the-uid", CancellationToken.None));
        var live = await client.CoreV1.ReadNamespacedConfigMapAsync("cm", "default");
        Assert.True(await applier.DeleteAsync<V1ConfigMap>(new ObjectKey("default", "cm"), live.Metadata.Uid, CancellationToken.None));
    }

    private static V1ConfigMap ConfigMap(params (string Key, string Value)[] data) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = "cm", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = "x" } },
        Data = data.ToDictionary(d => d.Key, d => d.Value),
    };

    private static Kubernetes Client(KubeApiServer api)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(api.KubeconfigYaml));
        return new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(stream));
    }
}
