using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>Legacy and aggregated discovery documents, built from the registry on every call.</summary>
internal static class Discovery
{
    public const string AggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

    private static readonly string[] Verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    private static readonly string[] SubresourceVerbs = ["get", "patch", "update"];
    private static readonly string[] CreateOnlyVerbs = ["create"];

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0-sandbox",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2026-11-29T00:00:00Z",
        ["goVersion"] = "go1.23",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    private static IEnumerable<IGrouping<string, ResourceType>> Groups(ResourceRegistry registry, bool core) =>
        registry.All.Where(t => (t.Group.Length == 0) == core).GroupBy(t => t.Group);

    public static JsonObject Aggregated(ResourceRegistry registry, bool core)
    {
        var items = new JsonArray();
        foreach (var g in Groups(registry, core))
        {
            var versions = new JsonArray();
            foreach (var v in g.GroupBy(t => t.Version))
            {
                var resources = new JsonArray();
                foreach (var t in v)
                {
                    var r = new JsonObject
                    {
                        ["resource"] = t.Plural,
                        ["responseKind"] = Gvk(t.Group, t.Version, t.Kind),
                        ["scope"] = t.Namespaced ? "Namespaced" : "Cluster",
                        ["singularResource"] = t.Singular,
                        ["verbs"] = Strings(t.CreateOnly ? CreateOnlyVerbs : Verbs),
                    };
                    if (t.ShortNames.Count > 0)
                    {
                        r["shortNames"] = Strings(t.ShortNames);
                    }

                    if (t.Categories.Count > 0)
                    {
                        r["categories"] = Strings(t.Categories);
                    }

                    var subs = new JsonArray();
                    if (t.HasStatus)
                    {
                        subs.Add(new JsonObject { ["subresource"] = "status", ["responseKind"] = Gvk(t.Group, t.Version, t.Kind), ["verbs"] = Strings(SubresourceVerbs) });
                    }

                    if (t.Is("", "serviceaccounts"))
                    {
                        subs.Add(new JsonObject { ["subresource"] = "token", ["responseKind"] = Gvk("authentication.k8s.io", "v1", "TokenRequest"), ["verbs"] = Strings(CreateOnlyVerbs) });
                    }

                    if (t.Scale is not null)
                    {
                        subs.Add(new JsonObject { ["subresource"] = "scale", ["responseKind"] = Gvk("autoscaling", "v1", "Scale"), ["verbs"] = Strings(SubresourceVerbs) });
                    }

                    if (subs.Count > 0)
                    {
                        r["subresources"] = subs;
                    }

                    resources.Add(r);
                }

                versions.Add(new JsonObject { ["version"] = v.Key, ["freshness"] = "Current", ["resources"] = resources });
            }

            items.Add(new JsonObject { ["metadata"] = new JsonObject { ["name"] = g.Key }, ["versions"] = versions });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/v2",
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
    }

    public static JsonObject ApiVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject GroupList(ResourceRegistry registry) => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray([.. Groups(registry, core: false).Select(g => (JsonNode)Group(g.Key, g))]),
    };

    public static JsonObject? Group(ResourceRegistry registry, string group)
    {
        var types = registry.All.Where(t => t.Group == group).ToList();
        if (types.Count == 0 || group.Length == 0)
        {
            return null;
        }

        var g = Group(group, types);
        g["kind"] = "APIGroup";
        g["apiVersion"] = "v1";
        return g;
    }

    private static JsonObject Group(string name, IEnumerable<ResourceType> types)
    {
        var versions = types.Select(t => t.Version).Distinct().ToList();
        return new JsonObject
        {
            ["name"] = name,
            ["versions"] = new JsonArray([.. versions.Select(v => (JsonNode)new JsonObject { ["groupVersion"] = name + "/" + v, ["version"] = v })]),
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = name + "/" + versions[0], ["version"] = versions[0] },
        };
    }

    public static JsonObject ResourceList(ResourceRegistry registry, string group, string version)
    {
        var resources = new JsonArray();
        foreach (var t in registry.All.Where(t => t.Group == group && t.Version == version))
        {
            var r = new JsonObject
            {
                ["name"] = t.Plural,
                ["singularName"] = t.Singular,
                ["namespaced"] = t.Namespaced,
                ["kind"] = t.Kind,
                ["verbs"] = Strings(t.CreateOnly ? CreateOnlyVerbs : Verbs),
            };
            if (t.ShortNames.Count > 0)
            {
                r["shortNames"] = Strings(t.ShortNames);
            }

            if (t.Categories.Count > 0)
            {
                r["categories"] = Strings(t.Categories);
            }

            resources.Add(r);
            if (t.HasStatus)
            {
                resources.Add(new JsonObject { ["name"] = t.Plural + "/status", ["singularName"] = "", ["namespaced"] = t.Namespaced, ["kind"] = t.Kind, ["verbs"] = Strings(SubresourceVerbs) });
            }

            if (t.Is("", "serviceaccounts"))
            {
                resources.Add(new JsonObject { ["name"] = "serviceaccounts/token", ["singularName"] = "", ["namespaced"] = true, ["group"] = "authentication.k8s.io", ["version"] = "v1", ["kind"] = "TokenRequest", ["verbs"] = Strings(CreateOnlyVerbs) });
            }

            if (t.Scale is not null)
            {
                resources.Add(new JsonObject { ["name"] = t.Plural + "/scale", ["singularName"] = "", ["namespaced"] = t.Namespaced, ["group"] = "autoscaling", ["version"] = "v1", ["kind"] = "Scale", ["verbs"] = Strings(SubresourceVerbs) });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : group + "/" + version,
            ["resources"] = resources,
        };
    }

    private static JsonObject Gvk(string group, string version, string kind) => new() { ["group"] = group, ["version"] = version, ["kind"] = kind };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
}
