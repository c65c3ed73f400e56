using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Scenario 13: the label selector grammar and field selectors.</summary>
public sealed class SelectorTests : EmulatorTest
{

    protected override async Task ArrangeAsync()
    {
        await Create("a", new() { ["app"] = "demo", ["tier"] = "web", ["rank"] = "5" });
        await Create("b", new() { ["app"] = "demo", ["tier"] = "db", ["legacy"] = "yes", ["rank"] = "10" });
        await Create("c", new() { ["app"] = "other" });
        await Create("d", []);
    }

    [Theory]
    [InlineData("app=demo", "a,b")]
    [InlineData("app==demo", "a,b")]
    [InlineData("app!=demo", "c,d")]
    [InlineData("tier in (web,db)", "a,b")]
    [InlineData("tier notin (web)", "b,c,d")]
    [InlineData("legacy", "b")]
    [InlineData("!legacy", "a,c,d")]
    [InlineData("rank>6", "b")]
    [InlineData("rank<6", "a")]
    [InlineData("app=demo,tier notin (x,y),!legacy", "a")]
    [InlineData(" app = demo , tier in ( web ) ", "a")]
    public async Task Label_selector_grammar_filters_lists(string selector, string expected)
    {
        var plus = Uri.EscapeDataString(selector).Replace("%20", "+", StringComparison.Ordinal);
        var (code, body) = await Http.GetJsonAsync("/api/v1/namespaces/default/configmaps?labelSelector=" + plus);
        var (code20, body20) = await Http.GetJsonAsync("/api/v1/namespaces/default/configmaps?labelSelector=" + Uri.EscapeDataString(selector));

        Assert.Equal(200, code);
        Assert.Equal(200, code20);
        Assert.Equal(expected, Names(body!));
        Assert.Equal(expected, Names(body20!));
    }

    [Theory]
    [InlineData("app in ()")]
    [InlineData("app=(x")]
    [InlineData("rank>abc")]
    [InlineData("a,")]
    [InlineData("-bad-=x")]
    public async Task Malformed_label_selectors_are_400(string selector)
    {
        var (code, body) = await Http.GetJsonAsync("/api/v1/namespaces/default/configmaps?labelSelector=" + Uri.EscapeDataString(selector));

        Assert.Equal(400, code);
        Assert.Equal("BadRequest", (string?)body!["reason"]);
    }

    [Fact]
    public async Task Field_selector_on_name_and_namespace_filters_and_unknown_fields_are_400()
    {
        var (_, byName) = await Http.GetJsonAsync("/api/v1/configmaps?fieldSelector=" + Uri.EscapeDataString("metadata.name=b"));
        var (_, notName) = await Http.GetJsonAsync("/api/v1/namespaces/default/configmaps?fieldSelector=" + Uri.EscapeDataString("metadata.name!=b,metadata.namespace=default"));
        var (badCode, badBody) = await Http.GetJsonAsync("/api/v1/namespaces/default/configmaps?fieldSelector=spec.nothing%3Dx");

        Assert.Equal("b", Names(byName!));
        Assert.Equal("a,c,d", Names(notName!));
        Assert.Equal(400, badCode);
        Assert.Contains("spec.nothing", (string?)badBody!["message"]);
    }

    [Fact]
    public async Task Core_event_field_selectors_on_involvedObject_filter_like_kubectl_describe()
    {
        await Http.PostJsonAsync("/api/v1/namespaces/default/events", Event("e1", "a", "uid-a"));
        await Http.PostJsonAsync("/api/v1/namespaces/default/events", Event("e2", "b", "uid-b"));

        var (code, body) = await Http.GetJsonAsync("/api/v1/namespaces/default/events?fieldSelector=" + Uri.EscapeDataString("involvedObject.name=a,involvedObject.namespace=default,involvedObject.kind=ConfigMap,involvedObject.uid=uid-a") + "&limit=500");

        Assert.Equal(200, code);
        Assert.Equal("e1", Names(body!));
    }

    private static JsonObject Event(string name, string target, string uid) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name },
        ["involvedObject"] = new JsonObject { ["kind"] = "ConfigMap", ["namespace"] = "default", ["name"] = target, ["uid"] = uid },
        ["reason"] = "Tested",
        ["message"] = "hello",
        ["type"] = "Normal",
    };

    private async Task Create(string name, Dictionary<string, string> labels) =>
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap(name, labels: labels));

    private static string Names(JsonNode list) =>
        string.Join(",", list["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
}
