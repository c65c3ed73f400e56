using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>
/// The RBAC authorizer: a request is allowed when a rule of a Role or ClusterRole, bound to the user (by name, group
/// or ServiceAccount) through a RoleBinding in the request's namespace or a ClusterRoleBinding, matches its verb, API
/// group, resource/subresource and name (or its non-resource path). Members of system:masters bypass it, as on a
/// cluster. Disabled (the emulator without --rbac), it allows everything, like the AlwaysAllow mode.
/// The Role objects are read from the store on every decision, so a change applies to the next request.
/// </summary>
internal sealed class RbacAuthorizer
{
    public const string Group = "rbac.authorization.k8s.io";
    private const string Roles = "roles." + Group;
    private const string ClusterRoles = "clusterroles." + Group;
    private const string RoleBindings = "rolebindings." + Group;
    private const string ClusterRoleBindings = "clusterrolebindings." + Group;

    private readonly ObjectStore _store;

    public RbacAuthorizer(ObjectStore store, bool enabled)
    {
        _store = store;
        Enabled = enabled;
    }

    public bool Enabled { get; }

    public AuthorizationDecision Authorize(UserInfo user, AuthorizationAttributes request)
    {
        if (!Enabled || user.IsPrivileged)
        {
            return new AuthorizationDecision(true, "");
        }

        foreach (var (binding, rules) in ApplicableRules(user, request.Namespace))
        {
            if (rules.Any(r => RuleAllows(r, request)))
            {
                return new AuthorizationDecision(true, "RBAC: allowed by " + binding);
            }
        }

        return new AuthorizationDecision(false, "");
    }

    /// <summary>The rules that apply to a user in a namespace (SelfSubjectRulesReview); everything when RBAC is off.</summary>
    public IReadOnlyList<JsonObject> RulesFor(UserInfo user, string ns)
    {
        if (!Enabled)
        {
            return
            [
                new JsonObject { ["verbs"] = new JsonArray("*"), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") },
                new JsonObject { ["verbs"] = new JsonArray("*"), ["nonResourceURLs"] = new JsonArray("*") },
            ];
        }

        return [.. ApplicableRules(user, ns).SelectMany(b => b.Rules)];
    }

    /// <summary>Whether one PolicyRule covers the request (verbs, apiGroups, resources, resourceNames or nonResourceURLs).</summary>
    public static bool RuleAllows(JsonObject rule, AuthorizationAttributes request)
    {
        var verbs = Json.StringList(rule["verbs"]);
        if (!verbs.Contains("*") && !verbs.Contains(request.Verb))
        {
            return false;
        }

        if (!request.IsResourceRequest)
        {
            return Json.StringList(rule["nonResourceURLs"]).Any(u => u == "*" || u == request.Path || (u.EndsWith('*') && request.Path.StartsWith(u[..^1], StringComparison.Ordinal)));
        }

        var groups = Json.StringList(rule["apiGroups"]);
        if (!groups.Contains("*") && !groups.Contains(request.ApiGroup))
        {
            return false;
        }

        var resources = Json.StringList(rule["resources"]);
        var combined = request.ResourceWithSubresource;
        if (!resources.Any(r => r == "*" || r == combined || (request.Subresource.Length > 0 && r == "*/" + request.Subresource)))
        {
            return false;
        }

        var names = Json.StringList(rule["resourceNames"]);
        return names.Count == 0 || (request.Name.Length > 0 && names.Contains(request.Name));
    }

    private List<(string Binding, IReadOnlyList<JsonObject> Rules)> ApplicableRules(UserInfo user, string ns)
    {
        var result = new List<(string, IReadOnlyList<JsonObject>)>();
        lock (_store.Gate)
        {
            foreach (var binding in _store.Items(ClusterRoleBindings, null))
            {
                Collect(binding.Object, "", user, result);
            }

            if (ns.Length > 0)
            {
                foreach (var binding in _store.Items(RoleBindings, ns))
                {
                    Collect(binding.Object, ns, user, result);
                }
            }
        }

        return result;
    }

    private void Collect(JsonObject binding, string ns, UserInfo user, List<(string, IReadOnlyList<JsonObject>)> result)
    {
        var subject = (binding["subjects"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(s => Applies(s, ns, user));
        if (subject is null)
        {
            return;
        }

        var roleKind = Json.String(binding["roleRef"]?["kind"]);
        var roleName = Json.String(binding["roleRef"]?["name"]) ?? "";
        var role = roleKind switch
        {
            "ClusterRole" => _store.Get(ClusterRoles, "", roleName),
            "Role" when ns.Length > 0 => _store.Get(Roles, ns, roleName),
            _ => null,
        };
        if (role is null)
        {
            return;
        }

        var bindingName = Json.MetaString(binding, "name") ?? "";
        var describedBinding = ns.Length > 0 ? $"RoleBinding \"{bindingName}/{ns}\"" : $"ClusterRoleBinding \"{bindingName}\"";
        var describedRole = roleKind == "Role" ? $"Role \"{roleName}\"" : $"ClusterRole \"{roleName}\"";
        var rules = (role.Object["rules"] as JsonArray)?.OfType<JsonObject>()
            // A RoleBinding grants only resource rules: non-resource URLs are cluster-wide.
            .Where(r => ns.Length == 0 || Json.StringList(r["nonResourceURLs"]).Count == 0)
            .ToList() ?? [];
        result.Add(($"{describedBinding} of {describedRole} to {Describe(subject, ns)}", rules));
    }

    private static bool Applies(JsonObject subject, string bindingNamespace, UserInfo user)
    {
        var name = Json.String(subject["name"]) ?? "";
        switch (Json.String(subject["kind"]))
        {
            case "User":
                return user.Name == name;
            case "Group":
                return user.Groups.Contains(name);
            case "ServiceAccount":
                var saNamespace = Json.String(subject["namespace"]) is { Length: > 0 } n ? n : bindingNamespace;
                return saNamespace.Length > 0 && user.Name == UserInfo.ServiceAccountPrefix + saNamespace + ":" + name;
            default:
                return false;
        }
    }

    private static string Describe(JsonObject subject, string bindingNamespace)
    {
        var name = Json.String(subject["name"]) ?? "";
        return Json.String(subject["kind"]) == "ServiceAccount"
            ? $"ServiceAccount \"{name}/{(Json.String(subject["namespace"]) is { Length: > 0 } n ? n : bindingNamespace)}\""
            : $"{Json.String(subject["kind"])} \"{name}\"";
    }
}
