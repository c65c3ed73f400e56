using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Scenarios 10 and 11: finalizers, deletionTimestamp and garbage collection by ownerReferences.</summary>
public sealed class DeletionTests : EmulatorTest
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";
    private const string Widgets = "/apis/example.com/v1/namespaces/default/widgets";

    protected override async Task ArrangeAsync()
    {
        await Crds.InstallAsync(Http, Crds.Widget());
    }

    [Fact]
    public async Task Delete_without_finalizers_returns_Success_status_with_plural_kind_and_uid()
    {
        var (_, created) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("w"));

        var (code, body) = await Http.DeleteJsonAsync(Widgets + "/w");
        var (getCode, _) = await Http.GetJsonAsync(Widgets + "/w");

        Assert.Equal(200, code);
        Assert.Equal("Status", (string?)body!["kind"]);
        Assert.Equal("Success", (string?)body["status"]);
        Assert.Equal("widgets", (string?)body["details"]!["kind"]);
        Assert.Equal("example.com", (string?)body["details"]!["group"]);
        Assert.Equal((string?)created!["metadata"]!["uid"], (string?)body["details"]!["uid"]);
        Assert.Equal(404, getCode);
    }

    [Fact]
    public async Task Delete_with_finalizer_marks_deletion_then_releasing_the_finalizer_removes_the_object()
    {
        var w = Crds.WidgetObject("w");
        w["metadata"]!["finalizers"] = new JsonArray("example.com/hold");
        await Http.PostJsonAsync(Widgets, w);

        var (code, marked) = await Http.DeleteJsonAsync(Widgets + "/w");
        var (againCode, again) = await Http.DeleteJsonAsync(Widgets + "/w");
        var addFinalizer = again!.DeepClone();
        addFinalizer["metadata"]!["finalizers"] = new JsonArray("example.com/hold", "example.com/new");
        var (addCode, addBody) = await Http.PutJsonAsync(Widgets + "/w", addFinalizer);
        var release = again.DeepClone();
        release["metadata"]!["finalizers"] = new JsonArray();
        var (releaseCode, _) = await Http.PutJsonAsync(Widgets + "/w", release);
        var (goneCode, _) = await Http.GetJsonAsync(Widgets + "/w");

        Assert.Equal(200, code);
        Assert.NotNull(marked!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(2, (int?)marked["metadata"]!["generation"]);
        Assert.Equal(200, againCode);
        Assert.Equal((string?)marked["metadata"]!["resourceVersion"], (string?)again["metadata"]!["resourceVersion"]);
        Assert.Equal(422, addCode);
        Assert.Contains("no new finalizers can be added if the object is being deleted", (string?)addBody!["message"]);
        Assert.Equal(200, releaseCode);
        Assert.Equal(404, goneCode);
    }

    [Fact]
    public async Task Background_deletion_collects_dependents_but_keeps_those_with_another_live_owner()
    {
        var (_, owner) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("owner"));
        var (_, other) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("other"));
        await Http.PostJsonAsync(ConfigMaps, Owned("only", owner!));
        await Http.PostJsonAsync(ConfigMaps, Owned("shared", owner!, other!));

        await Http.DeleteJsonAsync(Widgets + "/owner", new JsonObject { ["propagationPolicy"] = "Background" });

        await Eventually.True(async () => (await Http.GetJsonAsync(ConfigMaps + "/only")).Code == 404, what: "dependent collected");
        Assert.Equal(200, (await Http.GetJsonAsync(ConfigMaps + "/shared")).Code);
    }

    [Fact]
    public async Task Foreground_deletion_keeps_the_owner_until_blocking_dependents_are_gone()
    {
        var (_, owner) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("owner"));
        var dependent = Owned("dep", owner!, block: true);
        dependent["metadata"]!["finalizers"] = new JsonArray("example.com/hold");
        await Http.PostJsonAsync(ConfigMaps, dependent);

        var (code, body) = await Http.DeleteJsonAsync(Widgets + "/owner?propagationPolicy=Foreground");
        await Eventually.True(async () => (await Http.GetJsonAsync(ConfigMaps + "/dep")).Body?["metadata"]?["deletionTimestamp"] is not null, what: "dependent marked for deletion");
        var (_, ownerWhileBlocked) = await Http.GetJsonAsync(Widgets + "/owner");
        await Http.PatchJsonAsync(ConfigMaps + "/dep", JsonNode.Parse("""{"metadata":{"finalizers":null}}""")!, "application/merge-patch+json");

        Assert.Equal(200, code);
        Assert.Contains("foregroundDeletion", body!["metadata"]!["finalizers"]!.AsArray().Select(f => (string?)f));
        Assert.NotNull(ownerWhileBlocked!["metadata"]!["deletionTimestamp"]);
        await Eventually.True(async () => (await Http.GetJsonAsync(Widgets + "/owner")).Code == 404, what: "owner removed after its dependent");
    }

    [Fact]
    public async Task Orphan_deletion_removes_the_owner_reference_and_keeps_the_dependent()
    {
        var (_, owner) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("owner"));
        await Http.PostJsonAsync(ConfigMaps, Owned("dep", owner!));

        await Http.DeleteJsonAsync(Widgets + "/owner", new JsonObject { ["propagationPolicy"] = "Orphan" });

        await Eventually.True(async () => (await Http.GetJsonAsync(Widgets + "/owner")).Code == 404, what: "owner removed");
        var (code, dep) = await Http.GetJsonAsync(ConfigMaps + "/dep");
        Assert.Equal(200, code);
        Assert.Null(dep!["metadata"]!["ownerReferences"]);
    }

    [Fact]
    public async Task Dependent_created_with_a_bogus_owner_uid_is_collected()
    {
        var (_, owner) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("owner"));
        var bogus = owner!.DeepClone();
        bogus["metadata"]!["uid"] = Guid.NewGuid().ToString();

        await Http.PostJsonAsync(ConfigMaps, Owned("dangling", bogus));

        await Eventually.True(async () => (await Http.GetJsonAsync(ConfigMaps + "/dangling")).Code == 404, what: "dangling dependent collected");
    }

    [Fact]
    public async Task Two_controller_owner_references_are_422()
    {
        var (_, a) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("a"));
        var (_, b) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("b"));
        var cm = Owned("x", a!, b!);
        foreach (var r in cm["metadata"]!["ownerReferences"]!.AsArray())
        {
            r!["controller"] = true;
        }

        var (code, body) = await Http.PostJsonAsync(ConfigMaps, cm);

        Assert.Equal(422, code);
        Assert.Contains("Only one reference can have Controller set to true", (string?)body!["message"]);
    }

    [Fact]
    public async Task Deleting_a_namespace_terminates_it_removes_its_content_and_refuses_new_content()
    {
        await Http.PostJsonAsync("/api/v1/namespaces", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "team" } });
        var held = TestClients.ConfigMap("held");
        held["metadata"]!["finalizers"] = new JsonArray("example.com/hold");
        await Http.PostJsonAsync("/api/v1/namespaces/team/configmaps", held);

        var (code, ns) = await Http.DeleteJsonAsync("/api/v1/namespaces/team");
        var (createCode, createBody) = await Http.PostJsonAsync("/api/v1/namespaces/team/configmaps", TestClients.ConfigMap("late"));
        await Http.PatchJsonAsync("/api/v1/namespaces/team/configmaps/held", JsonNode.Parse("""{"metadata":{"finalizers":null}}""")!, "application/merge-patch+json");

        Assert.Equal(200, code);
        Assert.Equal("Terminating", (string?)ns!["status"]!["phase"]);
        Assert.Equal(403, createCode);
        Assert.Contains("because it is being terminated", (string?)createBody!["message"]);
        await Eventually.True(async () => (await Http.GetJsonAsync("/api/v1/namespaces/team")).Code == 404, what: "namespace removed");
    }

    [Fact]
    public async Task Delete_preconditions_that_do_not_match_are_409()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));

        var (code, body) = await Http.DeleteJsonAsync(ConfigMaps + "/a", new JsonObject { ["preconditions"] = new JsonObject { ["uid"] = "not-it" } });

        Assert.Equal(409, code);
        Assert.Equal("Conflict", (string?)body!["reason"]);
    }

    private static JsonObject Owned(string name, params JsonNode[] owners)
    {
        var cm = TestClients.ConfigMap(name);
        cm["metadata"]!["ownerReferences"] = new JsonArray([.. owners.Select(o => (JsonNode)new JsonObject
        {
            ["apiVersion"] = "example.com/v1",
            ["kind"] = "Widget",
            ["name"] = (string?)o["metadata"]!["name"],
            ["uid"] = (string?)o["metadata"]!["uid"],
        })]);
        return cm;
    }

    private static JsonObject Owned(string name, JsonNode owner, bool block)
    {
        var cm = Owned(name, owner);
        cm["metadata"]!["ownerReferences"]![0]!["blockOwnerDeletion"] = block;
        return cm;
    }
}
