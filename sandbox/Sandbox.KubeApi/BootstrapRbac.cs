using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>
/// The default ClusterRoles and ClusterRoleBindings every cluster starts with that matter here: cluster-admin for
/// system:masters, discovery and public info for everyone, self reviews for the authenticated, and the OIDC issuer
/// documents for ServiceAccounts. (The aggregated admin/edit/view roles are not emulated.)
/// </summary>
internal static class BootstrapRbac
{
    public static IEnumerable<(string Plural, JsonObject Object)> Objects()
    {
        yield return Role("cluster-admin",
            Rule(["*"], ["*"], ["*"]),
            NonResource(["*"], ["*"]));
        yield return Binding("cluster-admin", "cluster-admin", Subject("Group", UserInfo.Masters));

        yield return Role("system:discovery", NonResource(["get"], ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]));
        yield return Binding("system:discovery", "system:discovery", Subject("Group", UserInfo.AllAuthenticated));

        yield return Role("system:public-info-viewer", NonResource(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"]));
        yield return Binding("system:public-info-viewer", "system:public-info-viewer", Subject("Group", UserInfo.AllAuthenticated), Subject("Group", UserInfo.AllUnauthenticated));

        yield return Role("system:basic-user",
            Rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            Rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]));
        yield return Binding("system:basic-user", "system:basic-user", Subject("Group", UserInfo.AllAuthenticated));

        yield return Role("system:service-account-issuer-discovery", NonResource(["get"], ["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"]));
        yield return Binding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery", Subject("Group", UserInfo.AllServiceAccounts));
    }

    private static (string, JsonObject) Role(string name, params JsonObject[] rules) =>
        ("clusterroles", new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "ClusterRole",
            ["metadata"] = Metadata(name),
            ["rules"] = new JsonArray([.. rules]),
        });

    private static (string, JsonObject) Binding(string name, string role, params JsonObject[] subjects) =>
        ("clusterrolebindings", new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "ClusterRoleBinding",
            ["metadata"] = Metadata(name),
            ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "ClusterRole", ["name"] = role },
            ["subjects"] = new JsonArray([.. subjects]),
        });

    private static JsonObject Metadata(string name) => new()
    {
        ["name"] = name,
        ["labels"] = new JsonObject { ["kubernetes.io/bootstrapping"] = "rbac-defaults" },
        ["annotations"] = new JsonObject { ["rbac.authorization.kubernetes.io/autoupdate"] = "true" },
    };

    private static JsonObject Subject(string kind, string name) =>
        new() { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = kind, ["name"] = name };

    private static JsonObject Rule(string[] verbs, string[] groups, string[] resources) =>
        new() { ["verbs"] = Strings(verbs), ["apiGroups"] = Strings(groups), ["resources"] = Strings(resources) };

    private static JsonObject NonResource(string[] verbs, string[] urls) =>
        new() { ["verbs"] = Strings(verbs), ["nonResourceURLs"] = Strings(urls) };

    private static JsonArray Strings(string[] values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
}
