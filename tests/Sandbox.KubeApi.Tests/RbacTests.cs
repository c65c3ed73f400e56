using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Sandbox.KubeApi.Tests.SecurityClients;

namespace Sandbox.KubeApi.Tests;

/// <summary>The emulator with --rbac: each rule shape, binding scope and subject kind, the 403 body, impersonation and the request log.</summary>
public sealed class RbacTests : IAsyncLifetime
{
    private const string Operator = "system:serviceaccount:ops:op";
    private KubeApiServer _server = null!;
    private HttpClient _admin = null!;
    private HttpClient _op = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeApiServer.StartAsync(new KubeApiServerOptions { Rbac = true });
        _admin = Admin(_server);
        foreach (var ns in new[] { "ops", "hr", "sales" })
        {
            await _admin.CreateNamespaceAsync(ns);
        }

        await _admin.CreateServiceAccountAsync("ops", "op");
        _op = WithToken(_server, await _admin.TokenAsync("ops", "op"));
    }

    public async Task DisposeAsync()
    {
        _op.Dispose();
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Forbidden_request_answers_403_with_the_api_servers_status_body()
    {
        var (code, body) = await _op.GetJsonAsync("/api/v1/namespaces/hr/secrets");
        var (namedCode, named) = await _op.GetJsonAsync("/apis/apps/v1/namespaces/hr/deployments/web");
        var (clusterCode, cluster) = await _op.GetJsonAsync("/api/v1/namespaces");

        Assert.Equal(403, code);
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"secrets is forbidden: User \"system:serviceaccount:ops:op\" cannot list resource \"secrets\" in API group \"\" in the namespace \"hr\"","reason":"Forbidden","details":{"kind":"secrets"},"code":403}""",
            body!.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        Assert.Equal(403, namedCode);
        Assert.Equal("deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ops:op\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"hr\"", (string?)named!["message"]);
        Assert.Equal("""{"name":"web","group":"apps","kind":"deployments"}""", named["details"]!.ToJsonString());
        Assert.Equal(403, clusterCode);
        Assert.Equal("namespaces is forbidden: User \"system:serviceaccount:ops:op\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope", (string?)cluster!["message"]);
    }

    [Fact]
    public async Task Admin_token_is_allowed_everything_and_anonymous_only_public_info()
    {
        using var anonymous = TestClients.Http(_server);
        using var wrong = WithToken(_server, "not-a-token");

        var (adminCode, _) = await _admin.GetJsonAsync("/api/v1/secrets");
        var (versionCode, _) = await anonymous.GetJsonAsync("/version");
        var (apiCode, api) = await anonymous.GetJsonAsync("/api");
        var (wrongCode, _) = await wrong.GetJsonAsync("/version");

        Assert.Equal(200, adminCode);
        Assert.Equal(200, versionCode);
        Assert.Equal(403, apiCode);
        Assert.Equal("forbidden: User \"system:anonymous\" cannot get path \"/api\"", (string?)api!["message"]);
        Assert.Equal(401, wrongCode);
    }

    [Fact]
    public async Task Service_accounts_can_read_discovery_and_the_token_issuer_documents()
    {
        var (api, _) = await _op.GetJsonAsync("/api");
        var (apps, _) = await _op.GetJsonAsync("/apis/apps/v1");
        var (openapi, _) = await _op.GetJsonAsync("/openapi/v3");
        var (oidc, _) = await _op.GetJsonAsync("/.well-known/openid-configuration");
        var (jwks, _) = await _op.GetJsonAsync("/openid/v1/jwks");

        Assert.Equal([200, 200, 200, 200, 200], new[] { api, apps, openapi, oidc, jwks });
    }

    [Fact]
    public async Task Role_binding_grants_only_in_its_namespace_and_cluster_role_binding_everywhere()
    {
        await _admin.GrantAsync("cm-reader", null, "hr", [Rule(["get", "list"], [""], ["configmaps"])], Subject("ServiceAccount", "op", "ops"));

        var (inHr, _) = await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps");
        var (inSales, _) = await _op.GetJsonAsync("/api/v1/namespaces/sales/configmaps");
        var (allNamespaces, _) = await _op.GetJsonAsync("/api/v1/configmaps");
        var (watchInHr, _) = await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps?watch=true&timeoutSeconds=1");
        await _admin.GrantAsync("cm-reader-everywhere", null, null, [Rule(["list"], [""], ["configmaps"])], Subject("ServiceAccount", "op", "ops"));
        var (allAfter, _) = await _op.GetJsonAsync("/api/v1/configmaps");
        var (salesAfter, _) = await _op.GetJsonAsync("/api/v1/namespaces/sales/configmaps");

        Assert.Equal(200, inHr);
        Assert.Equal(403, inSales);
        Assert.Equal(403, allNamespaces);
        Assert.Equal(403, watchInHr);
        Assert.Equal(200, allAfter);
        Assert.Equal(200, salesAfter);
    }

    [Fact]
    public async Task Namespaced_role_applies_through_a_role_binding_in_its_namespace()
    {
        await _admin.GrantAsync("leases", "ops", "ops", [Rule(["*"], ["coordination.k8s.io"], ["leases"])], Subject("ServiceAccount", "op", "ops"));

        var (created, _) = await _op.PostJsonAsync("/apis/coordination.k8s.io/v1/namespaces/ops/leases", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "l" }, ["spec"] = new JsonObject() });
        var (deleted, _) = await _op.DeleteJsonAsync("/apis/coordination.k8s.io/v1/namespaces/ops/leases/l");
        var (elsewhere, _) = await _op.GetJsonAsync("/apis/coordination.k8s.io/v1/namespaces/hr/leases");

        Assert.Equal(201, created);
        Assert.Equal(200, deleted);
        Assert.Equal(403, elsewhere);
    }

    [Fact]
    public async Task Resource_names_restrict_get_and_update_but_never_grant_list_or_create()
    {
        await _admin.PostJsonAsync("/api/v1/namespaces/hr/configmaps", TestClients.ConfigMap("mine"));
        await _admin.PostJsonAsync("/api/v1/namespaces/hr/configmaps", TestClients.ConfigMap("other"));
        await _admin.GrantAsync("one-cm", null, "hr", [Rule(["get", "list", "watch", "create"], [""], ["configmaps"], ["mine"])], Subject("ServiceAccount", "op", "ops"));

        var (mine, _) = await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps/mine");
        var (other, _) = await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps/other");
        var (list, _) = await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps");
        var (listPinned, _) = await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps?fieldSelector=metadata.name%3Dmine");
        var (create, _) = await _op.PostJsonAsync("/api/v1/namespaces/hr/configmaps", TestClients.ConfigMap("mine2"));

        Assert.Equal(200, mine);
        Assert.Equal(403, other);
        Assert.Equal(403, list);
        Assert.Equal(200, listPinned);
        Assert.Equal(403, create);
    }

    [Fact]
    public async Task Subresources_need_their_own_rule_and_api_group_must_match()
    {
        await _admin.CreateAsync("/apis/apps/v1/namespaces/hr/deployments", Deployment("web"));
        await _admin.GrantAsync("deploy", null, "hr", [Rule(["get", "update", "patch"], ["apps"], ["deployments"]), Rule(["get"], ["extensions"], ["replicasets"])], Subject("ServiceAccount", "op", "ops"));

        var (get, _) = await _op.GetJsonAsync("/apis/apps/v1/namespaces/hr/deployments/web");
        var (scale, scaleBody) = await _op.GetJsonAsync("/apis/apps/v1/namespaces/hr/deployments/web/scale");
        var (wrongGroup, _) = await _op.GetJsonAsync("/apis/apps/v1/namespaces/hr/replicasets");
        await _admin.GrantAsync("deploy-scale", null, "hr", [Rule(["get"], ["apps"], ["deployments/scale"])], Subject("ServiceAccount", "op", "ops"));
        var (scaleAfter, _) = await _op.GetJsonAsync("/apis/apps/v1/namespaces/hr/deployments/web/scale");
        var (statusStill, _) = await _op.GetJsonAsync("/apis/apps/v1/namespaces/hr/deployments/web/status");

        Assert.Equal(200, get);
        Assert.Equal(403, scale);
        Assert.Equal("deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ops:op\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"hr\"", (string?)scaleBody!["message"]);
        Assert.Equal(403, wrongGroup);
        Assert.Equal(200, scaleAfter);
        Assert.Equal(403, statusStill);
    }

    [Fact]
    public async Task Group_subjects_match_service_account_groups_and_authenticated()
    {
        await _admin.CreateServiceAccountAsync("hr", "robot");
        using var robot = WithToken(_server, await _admin.TokenAsync("hr", "robot"));
        await _admin.GrantAsync("all-sa", null, "sales", [Rule(["list"], [""], ["configmaps"])], Subject("Group", "system:serviceaccounts"));
        await _admin.GrantAsync("ops-sa", null, "hr", [Rule(["list"], [""], ["configmaps"])], Subject("Group", "system:serviceaccounts:ops"));
        await _admin.GrantAsync("authenticated", null, null, [Rule(["get"], [""], ["namespaces"])], Subject("Group", "system:authenticated"));

        var robotSales = (await robot.GetJsonAsync("/api/v1/namespaces/sales/configmaps")).Code;
        var robotHr = (await robot.GetJsonAsync("/api/v1/namespaces/hr/configmaps")).Code;
        var opHr = (await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps")).Code;
        var robotNamespace = (await robot.GetJsonAsync("/api/v1/namespaces/hr")).Code;
        using var anonymous = TestClients.Http(_server);
        var anonymousNamespace = (await anonymous.GetJsonAsync("/api/v1/namespaces/hr")).Code;

        Assert.Equal([200, 403, 200, 200, 403], new[] { robotSales, robotHr, opHr, robotNamespace, anonymousNamespace });
    }

    [Fact]
    public async Task Service_account_subject_without_namespace_in_a_role_binding_means_the_bindings_namespace()
    {
        await _admin.CreateServiceAccountAsync("hr", "op");
        using var hrOp = WithToken(_server, await _admin.TokenAsync("hr", "op"));
        await _admin.GrantAsync("local-sa", null, "hr", [Rule(["list"], [""], ["secrets"])], Subject("ServiceAccount", "op"));

        Assert.Equal(200, (await hrOp.GetJsonAsync("/api/v1/namespaces/hr/secrets")).Code);
        Assert.Equal(403, (await _op.GetJsonAsync("/api/v1/namespaces/hr/secrets")).Code);
    }

    [Fact]
    public async Task Impersonation_is_checked_with_the_impersonate_verb_and_then_acts_as_the_impersonated_user()
    {
        await _admin.GrantAsync("jane-reads", null, "hr", [Rule(["list"], [""], ["secrets"])], Subject("User", "jane"));

        var asJane = await SendAsAsync(_admin, "/api/v1/namespaces/hr/secrets", "jane");
        var asJaneSales = await SendAsAsync(_admin, "/api/v1/namespaces/sales/secrets", "jane");
        var opAsJane = await SendAsAsync(_op, "/api/v1/namespaces/hr/secrets", "jane");
        await _admin.GrantAsync("op-impersonates", null, null, [Rule(["impersonate"], [""], ["users"], ["jane"])], Subject("ServiceAccount", "op", "ops"));
        var opAsJaneAfter = await SendAsAsync(_op, "/api/v1/namespaces/hr/secrets", "jane");
        var opAsJaneWithGroup = await SendAsAsync(_op, "/api/v1/namespaces/hr/secrets", "jane", "admins");

        Assert.Equal(200, asJane.Code);
        Assert.Equal(403, asJaneSales.Code);
        Assert.Equal("secrets is forbidden: User \"jane\" cannot list resource \"secrets\" in API group \"\" in the namespace \"sales\"", (string?)asJaneSales.Body!["message"]);
        Assert.Equal(403, opAsJane.Code);
        Assert.Equal("users \"jane\" is forbidden: User \"system:serviceaccount:ops:op\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope", (string?)opAsJane.Body!["message"]);
        Assert.Equal(200, opAsJaneAfter.Code);
        Assert.Equal(403, opAsJaneWithGroup.Code);
        Assert.Contains("cannot impersonate resource \"groups\"", (string?)opAsJaneWithGroup.Body!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_log_records_the_identity_and_the_rbac_attributes_and_sums_permissions_per_user()
    {
        await _admin.GrantAsync("cm", null, "hr", [Rule(["get", "list", "update"], [""], ["configmaps"])], Subject("ServiceAccount", "op", "ops"));
        await _admin.PostJsonAsync("/api/v1/namespaces/hr/configmaps", TestClients.ConfigMap("a"));
        _server.Requests.Clear();

        await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps");
        await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps/a");
        await _op.GetJsonAsync("/api/v1/namespaces/hr/configmaps/a");
        await _op.DeleteJsonAsync("/api/v1/namespaces/hr/configmaps/a");
        await _admin.GetJsonAsync("/api/v1/namespaces/hr/configmaps");

        var entries = _server.Requests.Snapshot();
        var used = _server.Requests.PermissionsUsedBy(Operator);

        Assert.Equal(Operator, entries[0].User);
        Assert.Contains("system:serviceaccounts:ops", entries[0].Groups);
        Assert.Equal("list", entries[0].Authorization!.Verb);
        Assert.False(entries[3].Authorized);
        Assert.Equal("sandbox-admin", entries[4].User);
        Assert.Equal(
            [new PermissionUse("delete", "", "configmaps", 1, 1), new PermissionUse("get", "", "configmaps", 2, 0), new PermissionUse("list", "", "configmaps", 1, 0)],
            used);
    }

    [Fact]
    public async Task Subject_access_review_answers_for_another_subject_and_names_the_binding()
    {
        await _admin.GrantAsync("reader", null, "hr", [Rule(["get"], [""], ["pods"])], Subject("ServiceAccount", "op", "ops"));

        var (code, body) = await _admin.PostJsonAsync("/apis/authorization.k8s.io/v1/subjectaccessreviews", new JsonObject
        {
            ["apiVersion"] = "authorization.k8s.io/v1",
            ["kind"] = "SubjectAccessReview",
            ["spec"] = new JsonObject
            {
                ["user"] = Operator,
                ["groups"] = new JsonArray("system:serviceaccounts", "system:serviceaccounts:ops", "system:authenticated"),
                ["resourceAttributes"] = new JsonObject { ["namespace"] = "hr", ["verb"] = "get", ["resource"] = "pods" },
            },
        });
        var (_, denied) = await _op.PostJsonAsync("/apis/authorization.k8s.io/v1/subjectaccessreviews", new JsonObject { ["spec"] = new JsonObject { ["user"] = "x", ["nonResourceAttributes"] = new JsonObject { ["path"] = "/", ["verb"] = "get" } } });

        Assert.Equal(201, code);
        Assert.True((bool)body!["status"]!["allowed"]!);
        Assert.Equal("RBAC: allowed by RoleBinding \"reader/hr\" of ClusterRole \"reader\" to ServiceAccount \"op/ops\"", (string?)body["status"]!["reason"]);
        Assert.Equal("subjectaccessreviews.authorization.k8s.io is forbidden: User \"system:serviceaccount:ops:op\" cannot create resource \"subjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope", (string?)denied!["message"]);
    }

    private static async Task<(int Code, JsonNode? Body)> SendAsAsync(HttpClient client, string path, string user, string? group = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Impersonate-User", user);
        if (group is not null)
        {
            request.Headers.Add("Impersonate-Group", group);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static JsonObject Deployment(string name) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["replicas"] = 1,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "i" }) },
            },
        },
    };
}
