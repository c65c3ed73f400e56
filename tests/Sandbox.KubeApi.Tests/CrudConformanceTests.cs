using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Scenarios 1-5 and 12 of the emulation spec, over raw HTTP so status bodies are checked exactly.</summary>
public sealed class CrudConformanceTests : EmulatorTest
{
    [Fact]
    public async Task Create_without_kind_fills_kind_uid_resourceVersion_and_whole_second_timestamp()
    {
        var (code, body) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));

        Assert.Equal(201, code);
        Assert.Equal("ConfigMap", (string?)body!["kind"]);
        Assert.Equal("v1", (string?)body["apiVersion"]);
        Assert.True(Guid.TryParse((string?)body["metadata"]!["uid"], out _));
        Assert.True(long.Parse((string)body["metadata"]!["resourceVersion"]!) > 0);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", (string)body["metadata"]!["creationTimestamp"]!);
        Assert.Null(body["metadata"]!["generation"]);
    }

    [Fact]
    public async Task Second_create_is_409_AlreadyExists_and_resourceVersion_on_create_is_500()
    {
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));

        var (code, body) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));
        var withRv = TestClients.ConfigMap("b");
        withRv["metadata"]!["resourceVersion"] = "5";
        var (rvCode, rvBody) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", withRv);

        Assert.Equal(409, code);
        Assert.Equal("AlreadyExists", (string?)body!["reason"]);
        Assert.Equal("configmaps \"a\" already exists", (string?)body["message"]);
        Assert.Equal(500, rvCode);
        Assert.Null(rvBody!["reason"]);
        Assert.Equal("resourceVersion should not be set on objects to be created", (string?)rvBody["message"]);
    }

    [Fact]
    public async Task Create_in_missing_namespace_is_404_naming_the_namespace()
    {
        var (code, body) = await Http.PostJsonAsync("/api/v1/namespaces/nope/configmaps", TestClients.ConfigMap("a"));

        Assert.Equal(404, code);
        Assert.Equal("namespaces \"nope\" not found", (string?)body!["message"]);
    }

    [Fact]
    public async Task Get_missing_object_is_404_Status_with_plural_kind_and_unknown_path_is_404()
    {
        var (code, body) = await Http.GetJsonAsync("/apis/apps/v1/namespaces/default/deployments/web");
        var (pathCode, pathBody) = await Http.GetJsonAsync("/apis/example.com/v1/widgets");

        Assert.Equal(404, code);
        Assert.Equal("Status", (string?)body!["kind"]);
        Assert.Equal("Failure", (string?)body["status"]);
        Assert.Equal("NotFound", (string?)body["reason"]);
        Assert.Equal("deployments.apps \"web\" not found", (string?)body["message"]);
        Assert.Equal("deployments", (string?)body["details"]!["kind"]);
        Assert.Equal("apps", (string?)body["details"]!["group"]);
        Assert.Equal(404, (int?)body["code"]);
        Assert.Equal(404, pathCode);
        Assert.Equal("the server could not find the requested resource", (string?)pathBody!["message"]);
    }

    [Fact]
    public async Task Put_with_stale_resourceVersion_is_409_Conflict_with_the_exact_message()
    {
        var (_, created) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));
        var stale = created!.DeepClone();
        var update = created.DeepClone();
        update["data"]!["k"] = "2";
        Assert.Equal(200, (await Http.PutJsonAsync("/api/v1/namespaces/default/configmaps/a", update)).Code);

        stale["data"]!["k"] = "3";
        var (code, body) = await Http.PutJsonAsync("/api/v1/namespaces/default/configmaps/a", stale);

        Assert.Equal(409, code);
        Assert.Equal("Conflict", (string?)body!["reason"]);
        Assert.Equal("Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your changes to the latest version and try again", (string?)body["message"]);
    }

    [Fact]
    public async Task Put_without_resourceVersion_is_unconditional_for_configmaps_but_422_for_leases_and_put_creates_a_missing_lease()
    {
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));
        var cm = TestClients.ConfigMap("a");
        cm["data"]!["k"] = "changed";
        var (cmCode, cmBody) = await Http.PutJsonAsync("/api/v1/namespaces/default/configmaps/a", cm);

        var lease = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "l" }, ["spec"] = new JsonObject { ["holderIdentity"] = "x" } };
        var (createCode, _) = await Http.PutJsonAsync("/apis/coordination.k8s.io/v1/namespaces/default/leases/l", lease);
        var (noRvCode, noRvBody) = await Http.PutJsonAsync("/apis/coordination.k8s.io/v1/namespaces/default/leases/l", lease);

        Assert.Equal(200, cmCode);
        Assert.Equal("changed", (string?)cmBody!["data"]!["k"]);
        Assert.Equal(201, createCode);
        Assert.Equal(422, noRvCode);
        Assert.Equal("Invalid", (string?)noRvBody!["reason"]);
        Assert.Contains("must be specified for an update", (string?)noRvBody["message"]);
    }

    [Fact]
    public async Task Identical_put_keeps_the_resourceVersion_and_emits_no_watch_event()
    {
        var (_, created) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));
        var rv = (string)created!["metadata"]!["resourceVersion"]!;
        var before = Server.CurrentResourceVersion;

        var (code, body) = await Http.PutJsonAsync("/api/v1/namespaces/default/configmaps/a", created);
        var (code2, body2) = await Http.PutJsonAsync("/api/v1/namespaces/default/configmaps/a", body!);

        Assert.Equal(200, code);
        Assert.Equal(200, code2);
        Assert.Equal(rv, (string?)body!["metadata"]!["resourceVersion"]);
        Assert.Equal(rv, (string?)body2!["metadata"]!["resourceVersion"]);
        Assert.Equal(before, Server.CurrentResourceVersion);
    }

    [Fact]
    public async Task List_has_list_kind_current_resourceVersion_and_pages_in_namespace_name_order()
    {
        await Http.PostJsonAsync("/api/v1/namespaces", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "a-b" } });
        foreach (var (ns, name) in new[] { ("default", "z"), ("a-b", "m"), ("default", "b"), ("kube-system", "a") })
        {
            await Http.PostJsonAsync($"/api/v1/namespaces/{ns}/configmaps", TestClients.ConfigMap(name));
        }

        await Http.PostJsonAsync("/api/v1/namespaces/default/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "later" } });
        var seen = new List<string>();
        string? cont = null;
        var pages = 0;
        do
        {
            var (code, page) = await Http.GetJsonAsync("/api/v1/configmaps?watch=false&limit=1" + (cont is null ? "" : "&continue=" + Uri.EscapeDataString(cont)));
            Assert.Equal(200, code);
            Assert.Equal("ConfigMapList", (string?)page!["kind"]);
            Assert.Equal(Server.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)page["metadata"]!["resourceVersion"]);
            seen.AddRange(page["items"]!.AsArray().Select(i => $"{i!["metadata"]!["namespace"]}/{i["metadata"]!["name"]}"));
            cont = (string?)page["metadata"]!["continue"];
            pages++;
        }
        while (cont is not null);

        Assert.Equal(["a-b/m", "default/b", "default/z", "kube-system/a"], seen);
        Assert.Equal(4, pages);
    }

    [Fact]
    public async Task Name_and_namespace_mismatches_are_400_and_generateName_makes_a_name()
    {
        var wrongNs = TestClients.ConfigMap("a", ns: "kube-system");
        var (nsCode, nsBody) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", wrongNs);
        var generated = new JsonObject { ["metadata"] = new JsonObject { ["generateName"] = "gen-" } };
        var (genCode, genBody) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", generated);
        var (noNameCode, noNameBody) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", new JsonObject { ["metadata"] = new JsonObject() });

        Assert.Equal(400, nsCode);
        Assert.Equal("the namespace of the provided object does not match the namespace sent on the request", (string?)nsBody!["message"]);
        Assert.Equal(201, genCode);
        Assert.Matches("^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$", (string)genBody!["metadata"]!["name"]!);
        Assert.Equal(422, noNameCode);
        Assert.Contains("metadata.name: Required value: name or generateName is required", (string?)noNameBody!["message"]);
    }

    [Fact]
    public async Task Post_on_an_item_is_405_and_unknown_query_parameters_are_ignored()
    {
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a"));

        var (code, body) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps/a", TestClients.ConfigMap("a"));
        var (getCode, _) = await Http.GetJsonAsync("/api/v1/namespaces/default/configmaps/a?pretty=true&timeout=32s");

        Assert.Equal(405, code);
        Assert.Equal("MethodNotAllowed", (string?)body!["reason"]);
        Assert.Equal(200, getCode);
    }

    [Fact]
    public async Task Secret_stringData_is_folded_into_base64_data_and_never_returned()
    {
        var secret = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "s" },
            ["data"] = new JsonObject { ["a"] = Convert.ToBase64String("old"u8.ToArray()), ["b"] = Convert.ToBase64String("keep"u8.ToArray()) },
            ["stringData"] = new JsonObject { ["a"] = "new" },
        };

        var (code, body) = await Http.PostJsonAsync("/api/v1/namespaces/default/secrets", secret);
        var (_, read) = await Http.GetJsonAsync("/api/v1/namespaces/default/secrets/s");
        var (badCode, _) = await Http.PostJsonAsync("/api/v1/namespaces/default/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "bad" }, ["data"] = new JsonObject { ["x"] = "***" } });

        Assert.Equal(201, code);
        Assert.Null(body!["stringData"]);
        Assert.Null(read!["stringData"]);
        Assert.Equal(Convert.ToBase64String("new"u8.ToArray()), (string?)read["data"]!["a"]);
        Assert.Equal(Convert.ToBase64String("keep"u8.ToArray()), (string?)read["data"]!["b"]);
        Assert.Equal("Opaque", (string?)read["type"]);
        Assert.Equal(400, badCode);
    }

    [Fact]
    public async Task Immutable_configmap_refuses_data_changes_with_422()
    {
        var cm = TestClients.ConfigMap("frozen");
        cm["immutable"] = true;
        var (_, created) = await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", cm);
        created!["data"]!["k"] = "other";

        var (code, body) = await Http.PutJsonAsync("/api/v1/namespaces/default/configmaps/frozen", created);

        Assert.Equal(422, code);
        Assert.Contains("field is immutable when `immutable` is set", (string?)body!["message"]);
    }

    [Fact]
    public async Task Delete_collection_removes_only_the_selected_objects()
    {
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("a", labels: new() { ["tier"] = "x" }));
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("b", labels: new() { ["tier"] = "x" }));
        await Http.PostJsonAsync("/api/v1/namespaces/default/configmaps", TestClients.ConfigMap("c"));

        var (code, body) = await Http.DeleteJsonAsync("/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dx");
        var (_, left) = await Http.GetJsonAsync("/api/v1/namespaces/default/configmaps");

        Assert.Equal(200, code);
        Assert.Equal(2, body!["items"]!.AsArray().Count);
        Assert.Equal(["c"], left!["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
    }

    [Fact]
    public async Task Namespaces_are_precreated_with_the_metadata_name_label()
    {
        var (code, body) = await Http.GetJsonAsync("/api/v1/namespaces");

        Assert.Equal(200, code);
        var names = body!["items"]!.AsArray().Select(n => (string?)n!["metadata"]!["name"]).ToList();
        Assert.Equal(["default", "kube-node-lease", "kube-public", "kube-system"], names);
        Assert.All(body["items"]!.AsArray(), n => Assert.Equal((string?)n!["metadata"]!["name"], (string?)n["metadata"]!["labels"]!["kubernetes.io/metadata.name"]));
    }
}
