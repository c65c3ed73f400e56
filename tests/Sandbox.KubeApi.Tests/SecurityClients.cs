using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>HTTP clients that present the admin token or a ServiceAccount token, and the objects RBAC tests arrange.</summary>
public static class SecurityClients
{
    public static HttpClient WithToken(KubeApiServer server, string token)
    {
        var http = TestClients.Http(server);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public static HttpClient Admin(KubeApiServer server) => WithToken(server, server.AdminToken);

    public static async Task CreateAsync(this HttpClient admin, string path, JsonObject body)
    {
        var (code, answer) = await admin.PostJsonAsync(path, body);
        Assert.True(code == 201, $"creating at {path} answered {code}: {answer?.ToJsonString()}");
    }

    public static Task CreateNamespaceAsync(this HttpClient admin, string name) =>
        admin.CreateAsync("/api/v1/namespaces", new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } });

    public static Task CreateServiceAccountAsync(this HttpClient admin, string ns, string name) =>
        admin.CreateAsync($"/api/v1/namespaces/{ns}/serviceaccounts", new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } });

    public static JsonObject Rule(string[] verbs, string[] groups, string[] resources, string[]? names = null)
    {
        var rule = new JsonObject { ["verbs"] = Strings(verbs), ["apiGroups"] = Strings(groups), ["resources"] = Strings(resources) };
        if (names is not null)
        {
            rule["resourceNames"] = Strings(names);
        }

        return rule;
    }

    public static JsonObject Subject(string kind, string name, string? ns = null)
    {
        var subject = new JsonObject { ["kind"] = kind, ["name"] = name };
        if (ns is not null)
        {
            subject["namespace"] = ns;
        }

        return subject;
    }

    /// <summary>A Role (namespace given) or ClusterRole with the rules, bound by a RoleBinding in bindingNamespace or a ClusterRoleBinding.</summary>
    public static async Task GrantAsync(this HttpClient admin, string name, string? roleNamespace, string? bindingNamespace, JsonObject[] rules, params JsonObject[] subjects)
    {
        var rbac = "/apis/rbac.authorization.k8s.io/v1";
        var roleKind = roleNamespace is null ? "ClusterRole" : "Role";
        await admin.CreateAsync(
            roleNamespace is null ? $"{rbac}/clusterroles" : $"{rbac}/namespaces/{roleNamespace}/roles",
            new JsonObject { ["metadata"] = new JsonObject { ["name"] = name }, ["rules"] = new JsonArray([.. rules]) });
        await admin.CreateAsync(
            bindingNamespace is null ? $"{rbac}/clusterrolebindings" : $"{rbac}/namespaces/{bindingNamespace}/rolebindings",
            new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = name },
                ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = name },
                ["subjects"] = new JsonArray([.. subjects]),
            });
    }

    public static async Task<string> TokenAsync(this HttpClient client, string ns, string serviceAccount, JsonObject? spec = null)
    {
        var (code, body) = await client.PostJsonAsync($"/api/v1/namespaces/{ns}/serviceaccounts/{serviceAccount}/token", new JsonObject
        {
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["kind"] = "TokenRequest",
            ["spec"] = spec ?? new JsonObject(),
        });
        Assert.True(code == 201, $"TokenRequest answered {code}: {body?.ToJsonString()}");
        return (string)body!["status"]!["token"]!;
    }

    private static JsonArray Strings(string[] values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
}
