using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Server-side apply: field ownership per manager, removal of fields a manager stops applying, conflicts and no-op applies.</summary>
public sealed class ServerSideApplyTests : EmulatorTest
{
    private const string Apply = "application/apply-patch+yaml";
    private const string Merge = "application/merge-patch+json";
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";
    private const string Deployments = "/apis/apps/v1/namespaces/default/deployments";

    [Fact]
    public async Task A_key_the_manager_stops_applying_is_removed_unless_another_manager_owns_it()
    {
        await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=op&force=true", ConfigMap("""{"a":"1","b":"2","shared":"s"}"""), Apply);
        await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=other&force=true", ConfigMap("""{"shared":"s"}"""), Apply);

        var (code, body) = await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=op&force=true", ConfigMap("""{"a":"1"}"""), Apply);

        Assert.Equal(200, code);
        Assert.Equal("""{"a":"1","shared":"s"}""", body!["data"]!.ToJsonString());
    }

    [Fact]
    public async Task An_unchanged_apply_keeps_the_resource_version()
    {
        var (_, first) = await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=op&force=true", ConfigMap("""{"a":"1"}"""), Apply);
        var (_, second) = await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=op&force=true", ConfigMap("""{"a":"1"}"""), Apply);

        Assert.Equal((string?)first!["metadata"]!["resourceVersion"], (string?)second!["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public async Task Apply_without_force_over_a_field_another_manager_set_differently_is_a_409_conflict_naming_it()
    {
        await Http.PostJsonAsync($"{ConfigMaps}?fieldManager=kubectl-create", JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"theirs"}}""")!);

        var (code, body) = await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=op", ConfigMap("""{"a":"mine"}"""), Apply);
        var (forcedCode, forced) = await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=op&force=true", ConfigMap("""{"a":"mine"}"""), Apply);

        Assert.Equal(409, code);
        Assert.Equal("Conflict", (string?)body!["reason"]);
        Assert.Contains("conflict with \"kubectl-create\": .data.a", (string?)body["message"], StringComparison.Ordinal);
        Assert.Equal(200, forcedCode);
        Assert.Equal("mine", (string?)forced!["data"]!["a"]);
    }

    [Fact]
    public async Task A_field_taken_over_by_an_update_is_no_longer_removed_by_the_applier()
    {
        await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=op&force=true", ConfigMap("""{"a":"1","b":"2"}"""), Apply);
        await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=kubectl-edit", JsonNode.Parse("""{"data":{"b":"edited"}}""")!, Merge);

        var (_, body) = await Http.PatchJsonAsync($"{ConfigMaps}/c?fieldManager=op&force=true", ConfigMap("""{"a":"1"}"""), Apply);

        Assert.Equal("edited", (string?)body!["data"]!["b"]);
    }

    [Fact]
    public async Task Dropped_list_elements_and_map_entries_of_a_deployment_are_removed_with_their_empty_parents()
    {
        var full = Deployment("""{"disk":"ssd"}""", """[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]""", """{"limits":{"cpu":"1","memory":"1Gi"}}""");
        await Http.PatchJsonAsync($"{Deployments}/d?fieldManager=op&force=true", full, Apply);

        var (code, body) = await Http.PatchJsonAsync($"{Deployments}/d?fieldManager=op&force=true", Deployment(null, null, """{"limits":{"memory":"1Gi"}}"""), Apply);

        Assert.Equal(200, code);
        var pod = body!["spec"]!["template"]!["spec"]!;
        Assert.Null(pod["nodeSelector"]);
        Assert.Null(pod["tolerations"]);
        Assert.Equal("""{"limits":{"memory":"1Gi"}}""", pod["containers"]![0]!["resources"]!.ToJsonString());
    }

    private static JsonNode ConfigMap(string data) =>
        JsonNode.Parse($$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{{data}}}""")!;

    private static JsonNode Deployment(string? nodeSelector, string? tolerations, string resources)
    {
        var pod = new JsonObject
        {
            ["containers"] = JsonNode.Parse($$"""[{"name":"app","image":"example/app:1","resources":{{resources}}}]"""),
        };
        if (nodeSelector is not null)
        {
            pod["nodeSelector"] = JsonNode.Parse(nodeSelector);
        }

        if (tolerations is not null)
        {
            pod["tolerations"] = JsonNode.Parse(tolerations);
        }

        return new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = "d" },
            ["spec"] = new JsonObject
            {
                ["selector"] = JsonNode.Parse("""{"matchLabels":{"app":"d"}}"""),
                ["template"] = new JsonObject { ["metadata"] = JsonNode.Parse("""{"labels":{"app":"d"}}"""), ["spec"] = pod },
            },
        };
    }
}
