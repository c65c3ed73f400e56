using System.Text.Json.Nodes;
using Greenhouse.Testing;

namespace Sandbox.KubeApi.Tests;

/// <summary>Scenario 18 through the real kubectl binary: apply, get (table, yaml, -w), patch, delete with finalizers, cascade, describe, explain.</summary>
public sealed class KubectlTests : EmulatorTest
{
    private const string CrdYaml = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.example.com
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            additionalPrinterColumns:
            - {name: Size, type: integer, jsonPath: .spec.size}
            - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    description: What the widget should be.
                    properties:
                      size: {type: integer, minimum: 1, description: How big the widget is.}
        """;

    private Kubectl _kubectl = null!;

    protected override async Task ArrangeAsync()
    {
        _kubectl = await Kubectl.ForAsync(Server);
    }

    protected override Task CleanUpAsync()
    {
        _kubectl.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Apply_crd_then_custom_resource_from_yaml_and_read_it_as_table_and_yaml()
    {
        var crd = _kubectl.WriteFile("crd.yaml", CrdYaml);
        var widget = _kubectl.WriteFile("w.yaml", Widget("w1", 3));

        var crdApply = await _kubectl.RunAsync("apply", "-f", crd);
        var created = await _kubectl.RunAsync("apply", "-f", widget);
        var unchanged = await _kubectl.RunAsync("apply", "-f", widget);
        _kubectl.WriteFile("w.yaml", Widget("w1", 5));
        var configured = await _kubectl.RunAsync("apply", "-f", widget);
        var table = await _kubectl.RunAsync("get", "wg");
        var yaml = await _kubectl.RunAsync("get", "widget", "w1", "-o", "yaml");
        var invalid = await _kubectl.RunAsync("apply", "-f", _kubectl.WriteFile("bad.yaml", Widget("bad", 0)));

        Assert.True(crdApply.ExitCode == 0, crdApply.Err);
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created", crdApply.Out);
        Assert.Contains("widget.example.com/w1 created", created.Out);
        Assert.Contains("widget.example.com/w1 unchanged", unchanged.Out);
        Assert.Contains("widget.example.com/w1 configured", configured.Out);
        var lines = table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+SIZE\s+AGE$", lines[0]);
        Assert.Matches(@"^w1\s+5\s+\d+s$", lines[1]);
        Assert.Contains("kind: Widget", yaml.Out);
        Assert.Contains("size: 5", yaml.Out);
        Assert.Contains("generation: 2", yaml.Out);
        Assert.NotEqual(0, invalid.ExitCode);
        Assert.Contains("spec.size in body should be greater than or equal to 1", invalid.Err);
    }

    [Fact]
    public async Task Server_side_apply_patch_describe_and_explain_work()
    {
        await _kubectl.RunAsync("apply", "-f", _kubectl.WriteFile("crd.yaml", CrdYaml));
        var widget = _kubectl.WriteFile("w.yaml", Widget("w1", 3));

        var ssa = await _kubectl.RunAsync("apply", "--server-side", "-f", widget);
        var patch = await _kubectl.RunAsync("patch", "widget", "w1", "--type=merge", "-p", """{"spec":{"size":7}}""");
        await Http.PostJsonAsync("/api/v1/namespaces/default/events", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "w1.1" },
            ["involvedObject"] = new JsonObject { ["kind"] = "Widget", ["namespace"] = "default", ["name"] = "w1", ["apiVersion"] = "example.com/v1", ["uid"] = (string?)(await Http.GetJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w1")).Body!["metadata"]!["uid"] },
            ["reason"] = "Resized",
            ["message"] = "size changed to 7",
            ["type"] = "Normal",
            ["count"] = 1,
        });
        var describe = await _kubectl.RunAsync("describe", "widget", "w1");
        var explain = await _kubectl.RunAsync("explain", "widgets.spec.size");

        Assert.True(ssa.ExitCode == 0, ssa.Err);
        Assert.Contains("serverside-applied", ssa.Out);
        Assert.Contains("widget.example.com/w1 patched", patch.Out);
        Assert.True(describe.ExitCode == 0, describe.Err);
        Assert.Contains("Size:  7", describe.Out);
        Assert.Contains("size changed to 7", describe.Out);
        Assert.True(explain.ExitCode == 0, explain.Err);
        Assert.Contains("How big the widget is.", explain.Out);
    }

    [Fact]
    public async Task Get_watch_sees_a_change_and_exits_cleanly_when_theServer_ends_the_stream()
    {
        await _kubectl.RunAsync("apply", "-f", _kubectl.WriteFile("crd.yaml", CrdYaml));
        await _kubectl.RunAsync("apply", "-f", _kubectl.WriteFile("w.yaml", Widget("w1", 3)));
        using var watch = _kubectl.Start("get", "widgets", "-w");
        var lines = new List<string>();
        var reader = Task.Run(async () =>
        {
            while (await watch.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }
            }
        });

        await Eventually.True(() => Task.FromResult(Count(lines) >= 2), TimeSpan.FromSeconds(20), "initial table");
        await _kubectl.RunAsync("patch", "widget", "w1", "--type=merge", "-p", """{"spec":{"size":9}}""");
        await Eventually.True(() => Task.FromResult(Snapshot(lines).Any(l => l.StartsWith("w1", StringComparison.Ordinal) && l.Contains(" 9 ", StringComparison.Ordinal))), TimeSpan.FromSeconds(20), "modified row");
        Server.Faults.CloseWatches();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await watch.WaitForExitAsync(cts.Token);
        await reader;

        Assert.Equal(0, watch.ExitCode);
    }

    [Fact]
    public async Task Delete_waits_for_a_pending_finalizer_and_cascades_to_owned_objects()
    {
        await _kubectl.RunAsync("apply", "-f", _kubectl.WriteFile("crd.yaml", CrdYaml));
        await _kubectl.RunAsync("apply", "-f", _kubectl.WriteFile("w.yaml", Widget("w1", 3, finalizer: true)));
        var uid = (string?)(await Http.GetJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w1")).Body!["metadata"]!["uid"];
        var owned = await _kubectl.RunAsync("apply", "-f", _kubectl.WriteFile("cm.yaml", $$"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: child
              ownerReferences: [{apiVersion: example.com/v1, kind: Widget, name: w1, uid: {{uid}}}]
            data: {a: b}
            """));
        Assert.True(owned.ExitCode == 0, owned.Err);

        using var delete = _kubectl.Start("delete", "widget", "w1");
        var stdout = delete.StandardOutput.ReadToEndAsync();
        await Eventually.True(async () => (await Http.GetJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w1")).Body?["metadata"]?["deletionTimestamp"] is not null, TimeSpan.FromSeconds(20), "deletion started");
        Assert.False(delete.HasExited);
        await Http.PatchJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w1", JsonNode.Parse("""{"metadata":{"finalizers":null}}""")!, "application/merge-patch+json");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await delete.WaitForExitAsync(cts.Token);

        Assert.Equal(0, delete.ExitCode);
        Assert.Contains("widget.example.com \"w1\" deleted", await stdout);
        await Eventually.True(async () => (await _kubectl.RunAsync("get", "configmap", "child")).Err.Contains("NotFound", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "owned configmap collected");
    }

    [Fact]
    public async Task Client_side_apply_of_built_ins_round_trips_last_applied_and_merges_containers_by_name()
    {
        var manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, labels: {app: web}}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - {name: main, image: "receiver:1.0", env: [{name: A, value: "1"}]}
                  - {name: sidecar, image: "proxy:1.0"}
            """;
        var file = _kubectl.WriteFile("d.yaml", manifest);

        var created = await _kubectl.RunAsync("apply", "-f", file);
        _kubectl.WriteFile("d.yaml", manifest.Replace("receiver:1.0", "receiver:2.0", StringComparison.Ordinal).Replace("- {name: sidecar, image: \"proxy:1.0\"}", "", StringComparison.Ordinal));
        var configured = await _kubectl.RunAsync("apply", "-f", file);
        var unchanged = await _kubectl.RunAsync("apply", "-f", file);
        var (_, live) = await Http.GetJsonAsync("/apis/apps/v1/namespaces/default/deployments/web");

        Assert.True(created.ExitCode == 0, created.Err);
        Assert.Contains("deployment.apps/web configured", configured.Out);
        Assert.Contains("deployment.apps/web unchanged", unchanged.Out);
        var containers = live!["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["main"], containers.Select(c => (string?)c!["name"]));
        Assert.Equal("receiver:2.0", (string?)containers[0]!["image"]);
        Assert.Equal(2, (int?)live["metadata"]!["generation"]);
        Assert.Contains("receiver:2.0", (string?)live["metadata"]!["annotations"]!["kubectl.kubernetes.io/last-applied-configuration"]);
    }

    private static string Widget(string name, int size, bool finalizer = false) => $"""
        apiVersion: example.com/v1
        kind: Widget
        metadata:
          name: {name}
        {(finalizer ? "  finalizers: [example.com/hold]\n" : "")}spec:
          size: {size}
        """;

    private static int Count(List<string> lines)
    {
        lock (lines)
        {
            return lines.Count;
        }
    }

    private static List<string> Snapshot(List<string> lines)
    {
        lock (lines)
        {
            return [.. lines];
        }
    }
}
