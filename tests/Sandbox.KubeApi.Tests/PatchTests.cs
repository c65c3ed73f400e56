using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Scenarios 8 and 9: JSON, merge, strategic-merge and apply patches.</summary>
public sealed class PatchTests : EmulatorTest
{
    private const string Json = "application/json-patch+json";
    private const string Merge = "application/merge-patch+json";
    private const string Strategic = "application/strategic-merge-patch+json";
    private const string Apply = "application/apply-patch+yaml";
    private const string Deployments = "/apis/apps/v1/namespaces/default/deployments";

    protected override async Task ArrangeAsync()
    {
        await Crds.InstallAsync(Http, Crds.Widget());
    }

    [Fact]
    public async Task Json_patch_applies_operations_and_a_failed_test_is_422()
    {
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));

        var ops = JsonNode.Parse("""[{"op":"add","path":"/data/n","value":"1"},{"op":"replace","path":"/data/k","value":"w"},{"op":"copy","from":"/data/n","path":"/data/m"}]""")!;
        var (code, body) = await Http.PatchJsonAsync("/api/v1/namespaces/default/configmaps/a", ops, Json);
        var (testCode, testBody) = await Http.PatchJsonAsync("/api/v1/namespaces/default/configmaps/a", JsonNode.Parse("""[{"op":"test","path":"/data/k","value":"nope"}]""")!, Json);
        var (missingCode, _) = await Http.PatchJsonAsync("/api/v1/namespaces/default/configmaps/a", JsonNode.Parse("""[{"op":"remove","path":"/data/absent"}]""")!, Json);

        Assert.Equal(200, code);
        Assert.Equal("w", (string?)body!["data"]!["k"]);
        Assert.Equal("1", (string?)body["data"]!["m"]);
        Assert.Equal(422, testCode);
        Assert.Equal("Status", (string?)testBody!["kind"]);
        Assert.Equal(422, missingCode);
    }

    [Fact]
    public async Task Merge_patch_null_removes_a_key_and_lists_replace_wholesale()
    {
        var w = Crds.WidgetObject("w");
        w["spec"]!["tags"] = new JsonArray("a", "b");
        w["spec"]!["url"] = "https://example.com";
        await Http.PostJsonAsync("/apis/example.com/v1/namespaces/default/widgets", w);

        var (code, body) = await Http.PatchJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w", JsonNode.Parse("""{"spec":{"url":null,"tags":["c"]}}""")!, Merge);

        Assert.Equal(200, code);
        Assert.Null(body!["spec"]!["url"]);
        Assert.Equal(["c"], body["spec"]!["tags"]!.AsArray().Select(t => (string?)t));
        Assert.Equal(3, (int?)body["spec"]!["size"]);
    }

    [Fact]
    public async Task Strategic_merge_on_a_custom_resource_is_415_with_the_exact_message()
    {
        await Http.PostJsonAsync("/apis/example.com/v1/namespaces/default/widgets", Crds.WidgetObject("w"));

        var (code, body) = await Http.PatchJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w", JsonNode.Parse("""{"spec":{"size":4}}""")!, Strategic);

        Assert.Equal(415, code);
        Assert.Equal("UnsupportedMediaType", (string?)body!["reason"]);
        Assert.Equal("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml", (string?)body["message"]);
    }

    [Fact]
    public async Task Strategic_merge_merges_containers_and_env_by_name_and_honours_patch_delete_and_element_order()
    {
        await Http.PostJsonAsync(Deployments, Workloads.Deployment("web"));
        var patch = JsonNode.Parse("""
        {"spec":{"template":{"spec":{
          "$setElementOrder/containers":[{"name":"main"},{"name":"extra"}],
          "containers":[
            {"name":"main","image":"receiver:2.0","env":[{"name":"B","value":"changed"}]},
            {"name":"sidecar","$patch":"delete"},
            {"name":"extra","image":"extra:1"}
          ]}}}}
        """)!;

        var (code, body) = await Http.PatchJsonAsync(Deployments + "/web", patch, Strategic + "; charset=utf-8");

        Assert.Equal(200, code);
        var containers = body!["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["main", "extra"], containers.Select(c => (string?)c!["name"]));
        Assert.Equal("receiver:2.0", (string?)containers[0]!["image"]);
        Assert.Equal(8080, (int?)containers[0]!["ports"]![0]!["containerPort"]);
        var env = containers[0]!["env"]!.AsArray();
        Assert.Equal("1", (string?)env.Single(e => (string?)e!["name"] == "A")!["value"]);
        Assert.Equal("changed", (string?)env.Single(e => (string?)e!["name"] == "B")!["value"]);
        Assert.DoesNotContain("$setElementOrder/containers", body["spec"]!["template"]!["spec"]!.AsObject().Select(kv => kv.Key));
        Assert.Equal(2, (int?)body["metadata"]!["generation"]);
    }

    [Fact]
    public async Task Apply_requires_a_field_manager_creates_when_missing_and_force_on_merge_patch_is_422()
    {
        var applied = Crds.WidgetObject("w");

        var (noManager, noManagerBody) = await Http.PatchJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w", applied, Apply);
        var (created, _) = await Http.PatchJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w?fieldManager=test&force=true", applied, Apply);
        applied["spec"]!["size"] = 8;
        var (updated, updatedBody) = await Http.PatchJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w?fieldManager=test&force=true", applied, Apply);
        var (forced, forcedBody) = await Http.PatchJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w?force=true", JsonNode.Parse("""{"spec":{"size":2}}""")!, Merge);

        Assert.Equal(422, noManager);
        Assert.Equal("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch", (string?)noManagerBody!["message"]);
        Assert.Equal("PatchOptions", (string?)noManagerBody["details"]!["kind"]);
        Assert.Equal(201, created);
        Assert.Equal(200, updated);
        Assert.Equal(8, (int?)updatedBody!["spec"]!["size"]);
        Assert.Equal(422, forced);
        Assert.Contains("force: Forbidden: may not be specified for non-apply patch", (string?)forcedBody!["message"]);
    }

    [Fact]
    public async Task Reapplying_without_a_field_removes_it_unless_another_applier_owns_it()
    {
        const string path = "/apis/example.com/v1/namespaces/default/widgets/w";
        var first = Crds.WidgetObject("w");
        first["spec"]!["url"] = "https://example.com";
        first["spec"]!["mode"] = "b";
        await Http.PatchJsonAsync(path + "?fieldManager=a", first, Apply);
        await Http.PatchJsonAsync(path + "?fieldManager=b", JsonNode.Parse("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"mode":"b"}}""")!, Apply);

        var (code, body) = await Http.PatchJsonAsync(path + "?fieldManager=a", Crds.WidgetObject("w", 4), Apply);

        Assert.Equal(200, code);
        Assert.Equal(4, (int?)body!["spec"]!["size"]);
        Assert.Null(body["spec"]!["url"]);
        Assert.Equal("b", (string?)body["spec"]!["mode"]);
    }

    [Fact]
    public async Task Reapplying_a_deployment_without_a_container_or_env_var_removes_them()
    {
        var applied = Workloads.Deployment("web");
        applied["apiVersion"] = "apps/v1";
        applied["kind"] = "Deployment";
        await Http.PatchJsonAsync(Deployments + "/web?fieldManager=op&force=true", applied, Apply);
        var spec = applied["spec"]!["template"]!["spec"]!;
        spec["containers"]!.AsArray().RemoveAt(1);
        spec["containers"]![0]!["env"]!.AsArray().RemoveAt(1);

        var (code, body) = await Http.PatchJsonAsync(Deployments + "/web?fieldManager=op&force=true", applied, Apply);

        Assert.Equal(200, code);
        var containers = body!["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["main"], containers.Select(c => (string?)c!["name"]));
        Assert.Equal(["A"], containers[0]!["env"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal("TCP", (string?)containers[0]!["ports"]![0]!["protocol"]);
    }

    [Fact]
    public async Task Patch_carrying_a_stale_resourceVersion_is_409_and_a_missing_object_is_404()
    {
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));

        var (code, _) = await Http.PatchJsonAsync("/api/v1/namespaces/default/configmaps/a", JsonNode.Parse("""{"metadata":{"resourceVersion":"1"},"data":{"k":"x"}}""")!, Merge);
        var (missing, _) = await Http.PatchJsonAsync("/api/v1/namespaces/default/configmaps/nope", JsonNode.Parse("""{"data":{"k":"x"}}""")!, Merge);
        var (unknownType, _) = await Http.PatchJsonAsync("/api/v1/namespaces/default/configmaps/a", JsonNode.Parse("""{"data":{"k":"x"}}""")!, "text/plain");

        Assert.Equal(409, code);
        Assert.Equal(404, missing);
        Assert.Equal(415, unknownType);
    }

    [Fact]
    public async Task Protobuf_body_without_the_kubernetes_magic_prefix_is_a_bad_request()
    {
        var (code, body) = await Http.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"), "application/vnd.kubernetes.protobuf");

        Assert.Equal(400, code);
        Assert.Equal("BadRequest", (string?)body!["reason"]);
        Assert.Contains("magic prefix", (string?)body["message"], StringComparison.Ordinal);
    }
}
