using System.Text.Json.Nodes;
using k8s;

namespace Sandbox.KubeApi.Tests;

/// <summary>Kind-specific behaviour of built-ins the operator owns: services, pods, PVCs, network policies, and the no-bookmark watch end.</summary>
public sealed class BuiltinKindTests : EmulatorTest
{
    [Fact]
    public async Task Service_gets_a_sticky_cluster_ip_and_port_defaults()
    {
        var svc = JsonNode.Parse("""{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":8080}]}}""")!.AsObject();

        var (_, created) = await Http.PostJsonAsync("/api/v1/namespaces/default/services", svc);
        var replace = svc.DeepClone();
        replace["spec"]!["ports"]![0]!["port"] = 9090;
        var (code, replaced) = await Http.PutJsonAsync("/api/v1/namespaces/default/services/web", replace);
        var changeIp = replaced!.DeepClone();
        changeIp["spec"]!["clusterIP"] = "10.0.0.1";
        var (ipCode, _) = await Http.PutJsonAsync("/api/v1/namespaces/default/services/web", changeIp);

        var ip = (string?)created!["spec"]!["clusterIP"];
        Assert.StartsWith("10.96.", ip);
        Assert.Equal("ClusterIP", (string?)created["spec"]!["type"]);
        Assert.Equal("TCP", (string?)created["spec"]!["ports"]![0]!["protocol"]);
        Assert.Equal(8080, (int?)created["spec"]!["ports"]![0]!["targetPort"]);
        Assert.Null(created["metadata"]!["generation"]);
        Assert.Equal(200, code);
        Assert.Equal(ip, (string?)replaced["spec"]!["clusterIP"]);
        Assert.Equal(422, ipCode);
    }

    [Fact]
    public async Task Scheduled_pod_is_deleted_gracefully_until_deleted_with_zero_grace()
    {
        var pod = JsonNode.Parse("""{"metadata":{"name":"p"},"spec":{"nodeName":"sandbox-node","containers":[{"name":"c","image":"x:1"}]}}""")!;
        var (_, created) = await Http.PostJsonAsync("/api/v1/namespaces/default/pods", pod);

        var (code, terminating) = await Http.DeleteJsonAsync("/api/v1/namespaces/default/pods/p");
        var (stillThere, _) = await Http.GetJsonAsync("/api/v1/namespaces/default/pods/p");
        var (finalCode, final) = await Http.DeleteJsonAsync("/api/v1/namespaces/default/pods/p?gracePeriodSeconds=0");

        Assert.Equal("Pending", (string?)created!["status"]!["phase"]);
        Assert.Equal(200, code);
        Assert.Equal(30, (int?)terminating!["metadata"]!["deletionGracePeriodSeconds"]);
        Assert.Equal(200, stillThere);
        Assert.Equal(200, finalCode);
        Assert.Equal("Pod", (string?)final!["kind"]);
        Assert.Equal(404, (await Http.GetJsonAsync("/api/v1/namespaces/default/pods/p")).Code);
    }

    [Fact]
    public async Task Pvc_binds_at_once_and_network_policy_types_are_defaulted()
    {
        var pvc = JsonNode.Parse("""{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}""")!;
        var np = JsonNode.Parse("""{"metadata":{"name":"np"},"spec":{"podSelector":{},"egress":[{}]}}""")!;

        var (_, boundPvc) = await Http.PostJsonAsync("/api/v1/namespaces/default/persistentvolumeclaims", pvc);
        var (_, policy) = await Http.PostJsonAsync("/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", np);

        Assert.Equal("Bound", (string?)boundPvc!["status"]!["phase"]);
        Assert.Equal("1Gi", (string?)boundPvc["status"]!["capacity"]!["storage"]);
        Assert.Equal(["Ingress", "Egress"], policy!["spec"]!["policyTypes"]!.AsArray().Select(t => (string?)t));
        Assert.Equal(1, (int?)policy["metadata"]!["generation"]);
    }

    [Theory]
    [InlineData("/apis/networking.k8s.io/v1/namespaces/default/ingresses")]
    [InlineData("/apis/policy/v1/namespaces/default/poddisruptionbudgets")]
    [InlineData("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")]
    [InlineData("/api/v1/namespaces/default/serviceaccounts")]
    [InlineData("/api/v1/namespaces/default/endpoints")]
    [InlineData("/apis/apps/v1/namespaces/default/replicasets")]
    public async Task Other_built_in_kinds_are_served_with_create_get_and_list(string collection)
    {
        var body = collection.Contains("replicasets", StringComparison.Ordinal)
            ? JsonNode.Parse("""{"metadata":{"name":"x"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i:1"}]}}}}""")!
            : JsonNode.Parse("""{"metadata":{"name":"x"}}""")!;

        var (createCode, created) = await Http.PostJsonAsync(collection, body);
        var (getCode, _) = await Http.GetJsonAsync(collection + "/x");
        var (_, list) = await Http.GetJsonAsync(collection);

        Assert.Equal(201, createCode);
        Assert.Equal(200, getCode);
        Assert.Equal((string?)created!["kind"] + "List", (string?)list!["kind"]);
        Assert.Single(list["items"]!.AsArray());
    }

    [Fact]
    public async Task Built_in_condition_times_sent_with_fractions_are_stored_in_whole_seconds()
    {
        await Http.PostJsonAsync("/apis/apps/v1/namespaces/default/deployments", Workloads.Deployment("web"));
        var status = JsonNode.Parse("""{"status":{"conditions":[{"type":"Available","status":"True","lastTransitionTime":"2026-11-29T06:51:28.653204Z"}]}}""")!;

        var (_, body) = await Http.PatchJsonAsync("/apis/apps/v1/namespaces/default/deployments/web/status", status, "application/merge-patch+json");

        Assert.Equal("2026-11-29T06:51:28Z", (string?)body!["status"]!["conditions"]![0]!["lastTransitionTime"]);
    }

    [Fact]
    public async Task KubernetesClient_watch_without_bookmarks_that_times_out_quietly_ends_in_HttpRequestException()
    {
        using var client = TestClients.Kubernetes(Server);

        // Documented client behaviour (kubernetes-client/csharp #893): a stream that ends before its first line
        // surfaces as an error; a real server does the same, so the operator's informer must treat it as a normal end.
        await Assert.ThrowsAnyAsync<HttpRequestException>(async () =>
        {
            await foreach (var _ in client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: Server.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), timeoutSeconds: 1))
            {
                Assert.Fail("no event expected");
            }
        });
    }
}
