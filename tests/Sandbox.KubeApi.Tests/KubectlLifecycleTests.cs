using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>The commands of sandbox/README.md's kubectl table that need no kubelet, through the real kubectl.</summary>
public sealed class KubectlLifecycleTests : EmulatorTest
{
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
    public async Task Delete_namespace_wait_returns_once_its_objects_are_gone()
    {
        await RunOkAsync("create", "namespace", "hr");
        await RunOkAsync("create", "secret", "generic", "s", "-n", "hr", "--from-literal=a=b");
        await RunOkAsync("create", "configmap", "c", "-n", "hr", "--from-literal=a=b");
        await RunOkAsync("create", "deployment", "web", "-n", "hr", "--image=example.com/web:1");
        var shown = await RunOkAsync("get", "secret,configmap,deployment", "-n", "hr", "-o", "name");

        var deleted = await RunOkAsync("delete", "namespace", "hr", "--wait");

        Assert.Contains("secret/s", shown, StringComparison.Ordinal);
        Assert.Contains("configmap/c", shown, StringComparison.Ordinal);
        Assert.Contains("namespace \"hr\" deleted", deleted, StringComparison.Ordinal);
        Assert.Contains("NotFound", (await _kubectl.RunAsync("get", "namespace", "hr")).Err, StringComparison.Ordinal);
        foreach (var list in new[] { "/api/v1/namespaces/hr/secrets", "/api/v1/namespaces/hr/configmaps", "/apis/apps/v1/namespaces/hr/deployments" })
        {
            Assert.Empty((await Http.GetJsonAsync(list)).Body!["items"]!.AsArray());
        }
    }

    [Fact]
    public async Task A_terminating_namespace_shows_its_finalizer_and_phase_and_wait_for_delete_returns_when_it_goes()
    {
        await RunOkAsync("create", "namespace", "held");
        var cm = JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"pinned","namespace":"held","finalizers":["example.com/hold"]}}""")!;
        await RunOkAsync("create", "-f", _kubectl.WriteFile("pinned.json", cm.ToJsonString()));

        await RunOkAsync("delete", "namespace", "held", "--wait=false");
        var terminating = JsonNode.Parse(await RunOkAsync("get", "namespace", "held", "-o", "json"))!;
        using var wait = _kubectl.Start("wait", "--for=delete", "namespace/held", "--timeout=60s");
        var waitOutput = wait.StandardOutput.ReadToEndAsync();
        Assert.False(wait.WaitForExit(500), "kubectl wait returns only once the namespace is gone");
        await RunOkAsync("patch", "configmap", "pinned", "-n", "held", "--type=merge", "-p", """{"metadata":{"finalizers":null}}""");
        await wait.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.Equal("Terminating", (string?)terminating["status"]!["phase"]);
        Assert.Equal("""["kubernetes"]""", terminating["spec"]!["finalizers"]!.ToJsonString());
        Assert.NotNull(terminating["metadata"]!["deletionTimestamp"]);
        Assert.Equal(0, wait.ExitCode);
        Assert.Contains("namespace/held condition met", await waitOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_expose_label_annotate_scale_and_wait_store_what_a_cluster_stores()
    {
        await RunOkAsync("run", "solo", "--image=example.com/solo:1", "--port=8080", "--labels=app=solo");
        var exposed = await RunOkAsync("expose", "pod", "solo", "--port=80", "--target-port=8080");
        await RunOkAsync("create", "deployment", "web", "--image=example.com/web:1", "--replicas=1");
        await RunOkAsync("label", "deployment", "web", "tier=front");
        await RunOkAsync("annotate", "deployment", "web", "owner=team-a");
        await RunOkAsync("create", "deployment", "back", "--image=example.com/back:1", "-n", "kube-public");
        await RunOkAsync("label", "deployment", "back", "tier=front", "-n", "kube-public");
        var selected = await RunOkAsync("get", "deployments", "-A", "-l", "tier=front", "--field-selector", "metadata.namespace=default", "-o", "jsonpath={.items[*].metadata.name}");
        var scaled = await RunOkAsync("scale", "deployment", "web", "--replicas=3");
        var waited = await _kubectl.RunAsync("wait", "--for=jsonpath={.spec.replicas}=3", "deployment/web", "--timeout=10s");
        var service = JsonNode.Parse(await RunOkAsync("get", "service", "solo", "-o", "json"))!;
        var deployment = JsonNode.Parse(await RunOkAsync("get", "deployment", "web", "-o", "json"))!;
        var version = await RunOkAsync("version");
        var resources = await RunOkAsync("api-resources");

        Assert.Contains("service/solo exposed", exposed, StringComparison.Ordinal);
        Assert.Equal("""{"app":"solo"}""", service["spec"]!["selector"]!.ToJsonString());
        Assert.Equal(8080, (int)service["spec"]!["ports"]![0]!["targetPort"]!);
        Assert.Equal("web", selected);
        Assert.Contains("deployment.apps/web scaled", scaled, StringComparison.Ordinal);
        Assert.True(waited.ExitCode == 0, waited.Err);
        Assert.Equal("front", (string?)deployment["metadata"]!["labels"]!["tier"]);
        Assert.Equal("team-a", (string?)deployment["metadata"]!["annotations"]!["owner"]);
        Assert.Equal(3, (int)deployment["spec"]!["replicas"]!);
        Assert.Contains("Server Version: v1.", version, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^replicasets\s+rs\s+apps/v1\s+true\s+ReplicaSet", resources);
        Assert.Matches(@"(?m)^roles\s+rbac.authorization.k8s.io/v1\s+true\s+Role", resources);
    }

    private async Task<string> RunOkAsync(params string[] args)
    {
        var result = await _kubectl.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result.Err}");
        return result.Out;
    }
}
