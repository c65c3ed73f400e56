using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Scenario 17: CRD registration, discovery, pruning, defaulting, validation, removal.</summary>
public sealed class CustomResourceDefinitionTests : EmulatorTest
{
    private const string Crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    private const string Widgets = "/apis/example.com/v1/namespaces/default/widgets";

    [Fact]
    public async Task Custom_resources_are_404_before_the_crd_and_served_at_once_after_it()
    {
        var (before, _) = await Http.GetJsonAsync(Widgets);

        await Tests.Crds.InstallAsync(Http, Tests.Crds.Widget());
        var (created, _) = await Http.PostJsonAsync(Widgets, Tests.Crds.WidgetObject("w"));

        Assert.Equal(404, before);
        Assert.Equal(201, created);
    }

    [Fact]
    public async Task Crd_becomes_Established_and_appears_in_legacy_and_aggregated_discovery()
    {
        await Tests.Crds.InstallAsync(Http, Tests.Crds.Widget());

        var crd = await Eventually.Get(async () =>
        {
            var (_, body) = await Http.GetJsonAsync(Crds + "/widgets.example.com");
            return body!["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["type"] == "Established" && (string?)c["status"] == "True") == true ? body : null;
        }, what: "Established condition");
        var (_, legacy) = await Http.GetJsonAsync("/apis/example.com/v1");
        var (_, groups) = await Http.GetJsonAsync("/apis");
        var (_, aggregated) = await Http.GetJsonAsync("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");

        Assert.Equal("widgets", (string?)crd["status"]!["acceptedNames"]!["plural"]);
        Assert.Equal(["v1"], crd["status"]!["storedVersions"]!.AsArray().Select(v => (string?)v));
        var names = legacy!["resources"]!.AsArray().Select(r => (string?)r!["name"]).ToList();
        Assert.Contains("widgets", names);
        Assert.Contains("widgets/status", names);
        Assert.Contains(groups!["groups"]!.AsArray(), g => (string?)g!["name"] == "example.com");
        var item = aggregated!["items"]!.AsArray().Single(g => (string?)g!["metadata"]!["name"] == "example.com");
        var resource = item!["versions"]![0]!["resources"]![0]!;
        Assert.Equal("widgets", (string?)resource["resource"]);
        Assert.Equal("wi", (string?)resource["shortNames"]![0]);
        Assert.Equal("Namespaced", (string?)resource["scope"]);
    }

    [Fact]
    public async Task Unknown_fields_are_pruned_warned_about_or_refused_under_strict_validation()
    {
        await Tests.Crds.InstallAsync(Http, Tests.Crds.Widget());
        var w = Tests.Crds.WidgetObject("w");
        w["spec"]!["colour"] = "red";
        w["spec"]!["extra"] = new JsonObject { ["anything"] = 1 };

        var (strictCode, strictBody) = await Http.PostJsonAsync(Widgets + "?fieldValidation=Strict", w);
        using var request = new HttpRequestMessage(HttpMethod.Post, Widgets) { Content = new StringContent(w.ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
        using var response = await Http.SendAsync(request);
        var stored = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(400, strictCode);
        Assert.Equal("Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"spec.colour\"", (string?)strictBody!["message"]);
        Assert.Equal(201, (int)response.StatusCode);
        Assert.Contains("299 - \"unknown field \\\"spec.colour\\\"\"", response.Headers.GetValues("Warning"));
        Assert.Null(stored["spec"]!["colour"]);
        Assert.Equal(1, (int?)stored["spec"]!["extra"]!["anything"]);
    }

    [Fact]
    public async Task Schema_defaults_are_applied_and_violations_are_422_with_field_causes()
    {
        await Tests.Crds.InstallAsync(Http, Tests.Crds.Widget());
        var bad = Tests.Crds.WidgetObject("bad");
        bad["spec"]!["size"] = "big";
        bad["spec"]!["mode"] = "x";
        var tooSmall = Tests.Crds.WidgetObject("small", size: 0);
        var missing = new JsonObject { ["apiVersion"] = "example.com/v1", ["kind"] = "Widget", ["metadata"] = new JsonObject { ["name"] = "m" }, ["spec"] = new JsonObject() };
        var dupes = Tests.Crds.WidgetObject("dupes");
        dupes["spec"]!["tags"] = new JsonArray("a", "a");

        var (_, good) = await Http.PostJsonAsync(Widgets, Tests.Crds.WidgetObject("good"));
        var (badCode, badBody) = await Http.PostJsonAsync(Widgets, bad);
        var (smallCode, smallBody) = await Http.PostJsonAsync(Widgets, tooSmall);
        var (missingCode, missingBody) = await Http.PostJsonAsync(Widgets, missing);
        var (dupCode, _) = await Http.PostJsonAsync(Widgets, dupes);

        Assert.Equal("a", (string?)good!["spec"]!["mode"]);
        Assert.Equal(422, badCode);
        Assert.Equal("Invalid", (string?)badBody!["reason"]);
        Assert.Equal("Widget.example.com \"bad\" is invalid: [spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\", spec.mode: Unsupported value: \"x\": supported values: \"a\", \"b\"]", (string?)badBody["message"]);
        var causes = badBody["details"]!["causes"]!.AsArray();
        Assert.Equal(["spec.size", "spec.mode"], causes.Select(c => (string?)c!["field"]));
        Assert.Equal("FieldValueNotSupported", (string?)causes[1]!["reason"]);
        Assert.Equal(422, smallCode);
        Assert.Contains("spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1", (string?)smallBody!["message"]);
        Assert.Equal(422, missingCode);
        Assert.Contains("spec.size: Required value", (string?)missingBody!["message"]);
        Assert.Equal(422, dupCode);
    }

    [Fact]
    public async Task Custom_resource_create_without_kind_is_400_and_update_without_resourceVersion_is_422()
    {
        await Tests.Crds.InstallAsync(Http, Tests.Crds.Widget());
        var noKind = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "w" }, ["spec"] = new JsonObject { ["size"] = 1 } };

        var (code, body) = await Http.PostJsonAsync(Widgets, noKind);
        await Http.PostJsonAsync(Widgets, Tests.Crds.WidgetObject("w"));
        var (putCode, putBody) = await Http.PutJsonAsync(Widgets + "/w", Tests.Crds.WidgetObject("w", 5));

        Assert.Equal(400, code);
        Assert.StartsWith("Object 'Kind' is missing in", (string?)body!["message"]);
        Assert.Equal(422, putCode);
        Assert.Equal("widgets.example.com \"w\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update", (string?)putBody!["message"]);
    }

    [Fact]
    public async Task Non_structural_or_misnamed_crds_are_422()
    {
        var misnamed = Tests.Crds.Widget();
        misnamed["metadata"]!["name"] = "wrong.example.com";
        var untyped = Tests.Crds.Widget();
        untyped["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["size"]!.AsObject().Remove("type");

        var (misnamedCode, _) = await Http.PostJsonAsync(Crds, misnamed);
        var (untypedCode, untypedBody) = await Http.PostJsonAsync(Crds, untyped);

        Assert.Equal(422, misnamedCode);
        Assert.Equal(422, untypedCode);
        Assert.Contains("properties[size].type: Required value", (string?)untypedBody!["message"]);
    }

    [Fact]
    public async Task Deleting_a_crd_deletes_its_resources_closes_their_watches_and_stops_serving()
    {
        await Tests.Crds.InstallAsync(Http, Tests.Crds.Widget());
        await Http.PostJsonAsync(Widgets, Tests.Crds.WidgetObject("w"));
        using var watchResponse = await Http.GetAsync(Widgets + "?watch=true&resourceVersion=0", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await watchResponse.Content.ReadAsStreamAsync());
        Assert.Contains("\"ADDED\"", await reader.ReadLineAsync());

        var (code, _) = await Http.DeleteJsonAsync(Crds + "/widgets.example.com");

        Assert.Equal(200, code);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Contains("\"DELETED\"", await reader.ReadLineAsync(cts.Token));
        Assert.Null(await reader.ReadLineAsync(cts.Token));
        await Eventually.True(async () => (await Http.GetJsonAsync(Crds + "/widgets.example.com")).Code == 404, what: "CRD removed");
        // As in a real API server, the resource stops being served when the CRD controller sees the
        // deletion, an instant after the CRD object is gone.
        await Eventually.True(async () => (await Http.GetJsonAsync(Widgets)).Code == 404, what: "widgets no longer served");
    }
}
