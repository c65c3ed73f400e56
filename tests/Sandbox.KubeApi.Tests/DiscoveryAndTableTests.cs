using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>What kubectl needs besides the verbs: /version, discovery (both forms), OpenAPI v3 and Tables.</summary>
public sealed class DiscoveryAndTableTests : EmulatorTest
{
    private const string AggregatedAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    private const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    protected override async Task ArrangeAsync()
    {
        await Crds.InstallAsync(Http, Crds.Widget());
    }

    [Fact]
    public async Task Version_reports_a_1_32Server()
    {
        var (code, body) = await Http.GetJsonAsync("/version?timeout=5s");

        Assert.Equal(200, code);
        Assert.Equal("1", (string?)body!["major"]);
        Assert.Equal("32", (string?)body["minor"]);
        Assert.StartsWith("v1.32.", (string?)body["gitVersion"]);
    }

    [Fact]
    public async Task Aggregated_discovery_answers_with_the_parameterised_content_type()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api?timeout=32s");
        request.Headers.TryAddWithoutValidation("Accept", AggregatedAccept);
        using var response = await Http.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", response.Content.Headers.ContentType!.ToString().Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal("APIGroupDiscoveryList", (string?)body["kind"]);
        var core = body["items"]![0]!;
        Assert.Equal("", (string?)core["metadata"]!["name"]);
        var resources = core["versions"]![0]!["resources"]!.AsArray();
        var cm = resources.Single(r => (string?)r!["resource"] == "configmaps")!;
        Assert.Equal("cm", (string?)cm["shortNames"]![0]);
        Assert.Equal("ConfigMap", (string?)cm["responseKind"]!["kind"]);
        Assert.Contains(resources, r => (string?)r!["resource"] == "namespaces" && (string?)r["scope"] == "Cluster");
    }

    [Fact]
    public async Task Legacy_discovery_lists_versions_groups_and_resources_with_subresources()
    {
        var (_, api) = await Http.GetJsonAsync("/api");
        var (_, apis) = await Http.GetJsonAsync("/apis");
        var (_, apps) = await Http.GetJsonAsync("/apis/apps");
        var (_, appsV1) = await Http.GetJsonAsync("/apis/apps/v1");
        var (missingCode, _) = await Http.GetJsonAsync("/apis/nothing.example.com/v1");

        Assert.Equal("APIVersions", (string?)api!["kind"]);
        Assert.Equal("v1", (string?)api["versions"]![0]);
        var groupNames = apis!["groups"]!.AsArray().Select(g => (string?)g!["name"]).ToList();
        foreach (var g in new[] { "apps", "coordination.k8s.io", "events.k8s.io", "networking.k8s.io", "policy", "discovery.k8s.io", "apiextensions.k8s.io", "example.com" })
        {
            Assert.Contains(g, groupNames);
        }

        Assert.Equal("apps/v1", (string?)apps!["preferredVersion"]!["groupVersion"]);
        var names = appsV1!["resources"]!.AsArray().Select(r => (string?)r!["name"]).ToList();
        Assert.Contains("deployments/status", names);
        Assert.Contains("deployments/scale", names);
        Assert.Equal(404, missingCode);
    }

    [Fact]
    public async Task OpenApi_v3_index_points_to_group_version_documents_with_field_validation_and_kind_schemas()
    {
        var (_, index) = await Http.GetJsonAsync("/openapi/v3");
        var url = (string)index!["paths"]!["apis/example.com/v1"]!["serverRelativeURL"]!;
        var (code, doc) = await Http.GetJsonAsync(url);

        Assert.NotNull(index["paths"]!["api/v1"]);
        Assert.Equal(200, code);
        var patch = doc!["paths"]!["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]!["patch"]!;
        Assert.Equal("Widget", (string?)patch["x-kubernetes-group-version-kind"]!["kind"]);
        Assert.Contains(patch["parameters"]!.AsArray(), p => (string?)p!["name"] == "fieldValidation");
        Assert.DoesNotContain("application/strategic-merge-patch+json", patch["requestBody"]!["content"]!.AsObject().Select(kv => kv.Key));
        var schema = doc["components"]!["schemas"]!["com.example.v1.Widget"]!;
        Assert.Equal("How big the widget is.", (string?)schema["properties"]!["spec"]!["properties"]!["size"]!["description"]);
        Assert.Equal("Widget", (string?)schema["x-kubernetes-group-version-kind"]![0]!["kind"]);
    }

    [Fact]
    public async Task Table_for_custom_resources_uses_printer_columns_with_ages_and_partial_metadata_rows()
    {
        var w = Crds.WidgetObject("w");
        w["metadata"]!["labels"] = new JsonObject { ["team"] = "a" };
        await Http.PostJsonAsync("/apis/example.com/v1/namespaces/default/widgets", w);
        await Http.PatchJsonAsync("/apis/example.com/v1/namespaces/default/widgets/w/status", JsonNode.Parse("""{"status":{"conditions":[{"type":"Ready","status":"True"}]}}""")!, "application/merge-patch+json");

        var (code, table) = await Http.GetJsonAsync("/apis/example.com/v1/namespaces/default/widgets?limit=500", TableAccept);

        Assert.Equal(200, code);
        Assert.Equal("Table", (string?)table!["kind"]);
        Assert.Equal(["Name", "Size", "Ready", "Age"], table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        var row = table["rows"]![0]!;
        Assert.Equal("w", (string?)row["cells"]![0]);
        Assert.Equal(3, (int?)row["cells"]![1]);
        Assert.Equal("True", (string?)row["cells"]![2]);
        Assert.Matches("^[0-9]+s$", (string?)row["cells"]![3]);
        Assert.Equal("PartialObjectMetadata", (string?)row["object"]!["kind"]);
        Assert.Equal("a", (string?)row["object"]!["metadata"]!["labels"]!["team"]);
    }

    [Fact]
    public async Task Table_for_built_ins_without_columns_is_name_and_age_and_single_get_has_one_row()
    {
        await Http.PostJsonAsync("/api/v1/namespaces/default/serviceaccounts", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "sa" } });

        var (_, table) = await Http.GetJsonAsync("/api/v1/namespaces/default/serviceaccounts/sa", TableAccept);

        Assert.Equal(["Name", "Age"], table!["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Single(table["rows"]!.AsArray());
    }

    [Theory]
    [InlineData(5, "5s")]
    [InlineData(119, "119s")]
    [InlineData(200, "3m20s")]
    [InlineData(600, "10m")]
    [InlineData(3 * 3600 + 120, "3h2m")]
    [InlineData(30 * 3600, "30h")]
    [InlineData(3 * 86400 + 3600, "3d1h")]
    [InlineData(400 * 86400, "400d")]
    public void Ages_are_printed_like_kubectl(int seconds, string expected) =>
        Assert.Equal(expected, TableConverter.HumanAge(TimeSpan.FromSeconds(seconds)));
}
