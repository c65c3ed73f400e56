using System.Globalization;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>
/// The minimal /openapi/v3 that lets kubectl apply use server-side field validation and lets kubectl
/// explain describe custom resources. Strategic merge patch is deliberately not advertised: kubectl
/// then uses its compiled-in types for built-ins and merge patch for custom resources.
/// </summary>
internal static class OpenApi
{
    public static JsonObject Index(ResourceRegistry registry)
    {
        var paths = new JsonObject();
        var hash = registry.Revision.ToString(CultureInfo.InvariantCulture);
        foreach (var gv in registry.All.Select(t => (t.Group, t.Version)).Distinct())
        {
            var key = gv.Group.Length == 0 ? "api/" + gv.Version : $"apis/{gv.Group}/{gv.Version}";
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={hash}" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject? GroupVersion(ResourceRegistry registry, string group, string version)
    {
        var types = registry.All.Where(t => t.Group == group && t.Version == version).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var t in types)
        {
            var prefix = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
            var collection = t.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{t.Plural}" : $"{prefix}/{t.Plural}";
            var schemaName = SchemaName(t);
            if (t.CreateOnly)
            {
                paths[collection] = new JsonObject { ["post"] = Operation(t, "post", schemaName, false) };
                schemas[schemaName] = Schema(t);
                continue;
            }

            paths[collection] = new JsonObject
            {
                ["get"] = Operation(t, "list", schemaName, false),
                ["post"] = Operation(t, "post", schemaName, false),
            };
            paths[collection + "/{name}"] = new JsonObject
            {
                ["get"] = Operation(t, "get", schemaName, false),
                ["put"] = Operation(t, "put", schemaName, false),
                ["patch"] = Operation(t, "patch", schemaName, true),
                ["delete"] = Operation(t, "delete", schemaName, false),
            };
            schemas[schemaName] = Schema(t);
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    private static string SchemaName(ResourceType t)
    {
        if (t.IsCustom)
        {
            return string.Join('.', t.Group.Split('.').Reverse()) + "." + t.Version + "." + t.Kind;
        }

        var pkg = t.Group.Length == 0 ? "core" : t.Group.Split('.')[0];
        return $"io.k8s.api.{pkg}.{t.Version}.{t.Kind}";
    }

    private static JsonObject Operation(ResourceType t, string action, string schemaName, bool isPatch)
    {
        var op = new JsonObject
        {
            ["operationId"] = action + t.Kind,
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = t.Group, ["version"] = t.Version, ["kind"] = t.Kind },
            ["parameters"] = new JsonArray(
                new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } },
                new JsonObject { ["name"] = "fieldManager", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } },
                new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } }),
            ["responses"] = new JsonObject
            {
                ["200"] = new JsonObject
                {
                    ["description"] = "OK",
                    ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/" + schemaName } } },
                },
            },
        };
        if (isPatch)
        {
            var content = new JsonObject();
            foreach (var media in new[] { "application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml" })
            {
                content[media] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } };
            }

            op["requestBody"] = new JsonObject { ["content"] = content, ["required"] = true };
        }

        return op;
    }

    private static JsonObject Schema(ResourceType t)
    {
        var schema = t.Schema?.DeepClone().AsObject() ?? new JsonObject
        {
            ["type"] = "object",
            ["description"] = $"{t.Kind} ({t.ApiVersion}), served by the sandbox emulator without a detailed schema.",
            ["x-kubernetes-preserve-unknown-fields"] = true,
        };
        var props = schema["properties"] as JsonObject ?? new JsonObject();
        props["apiVersion"] ??= new JsonObject { ["type"] = "string", ["description"] = "APIVersion defines the versioned schema of this representation of an object." };
        props["kind"] ??= new JsonObject { ["type"] = "string", ["description"] = "Kind is a string value representing the REST resource this object represents." };
        props["metadata"] = new JsonObject { ["type"] = "object", ["description"] = "Standard object's metadata." };
        schema["properties"] = props;
        schema["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = t.Group, ["version"] = t.Version, ["kind"] = t.Kind });
        return schema;
    }
}
