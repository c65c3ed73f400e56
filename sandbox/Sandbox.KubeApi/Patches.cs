using System.Globalization;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>RFC 6902 JSON patch, RFC 7386 merge patch and the strategic-merge subset kubectl uses.</summary>
internal static class Patches
{
    // ---------------- JSON patch ----------------

    public static JsonObject ApplyJsonPatch(JsonObject target, JsonNode patch)
    {
        if (patch is not JsonArray ops)
        {
            throw ApiException.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        }

        JsonNode root = Json.Clone(target);
        foreach (var opNode in ops)
        {
            if (opNode is not JsonObject op || Json.String(op["op"]) is not { } kind)
            {
                throw ApiException.BadRequest("invalid JSON patch operation");
            }

            var path = Json.String(op["path"]) ?? throw ApiException.BadRequest($"missing path in JSON patch operation \"{kind}\"");
            switch (kind)
            {
                case "add":
                    root = Add(root, path, RequireValue(op));
                    break;
                case "remove":
                    root = Remove(root, path, out _);
                    break;
                case "replace":
                    root = Remove(root, path, out _);
                    root = Add(root, path, RequireValue(op));
                    break;
                case "move":
                    {
                        var from = Json.String(op["from"]) ?? throw ApiException.BadRequest("missing from in move operation");
                        root = Remove(root, from, out var moved);
                        root = Add(root, path, moved);
                        break;
                    }

                case "copy":
                    {
                        var from = Json.String(op["from"]) ?? throw ApiException.BadRequest("missing from in copy operation");
                        root = Add(root, path, Resolve(root, from)?.DeepClone());
                        break;
                    }

                case "test":
                    if (!Json.Equal(Resolve(root, path), op["value"]))
                    {
                        throw Unprocessable($"testing value {path} failed: test failed");
                    }

                    break;
                default:
                    throw ApiException.BadRequest($"Unexpected kind: {kind}");
            }
        }

        return root as JsonObject ?? throw Unprocessable("the patch replaced the whole object with a non-object");
    }

    private static JsonNode? RequireValue(JsonObject op) =>
        op.ContainsKey("value") ? op["value"]?.DeepClone() : throw ApiException.BadRequest("missing value in JSON patch operation");

    private static ApiException Unprocessable(string message) => new(422, "Invalid", message);

    private static List<string> Pointer(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }

        if (path[0] != '/')
        {
            throw Unprocessable($"JSON pointer must start with '/': {path}");
        }

        return [.. path[1..].Split('/').Select(p => p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode? Resolve(JsonNode root, string path)
    {
        JsonNode? cur = root;
        foreach (var token in Pointer(path))
        {
            cur = cur switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var idx) && idx < a.Count => a[idx],
                _ => throw Unprocessable($"doc is missing path: \"{path}\": missing value"),
            };
        }

        return cur;
    }

    private static JsonNode Add(JsonNode root, string path, JsonNode? value)
    {
        var tokens = Pointer(path);
        if (tokens.Count == 0)
        {
            return value ?? throw Unprocessable("cannot replace the document with null");
        }

        var parent = ResolveParent(root, tokens, path);
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a:
                if (last == "-")
                {
                    a.Add(value);
                }
                else if (int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var idx) && idx <= a.Count)
                {
                    a.Insert(idx, value);
                }
                else
                {
                    throw Unprocessable($"add operation does not apply: doc is missing path: \"{path}\": missing value");
                }

                break;
            default:
                throw Unprocessable($"add operation does not apply: doc is missing path: \"{path}\": missing value");
        }

        return root;
    }

    private static JsonNode Remove(JsonNode root, string path, out JsonNode? removed)
    {
        var tokens = Pointer(path);
        if (tokens.Count == 0)
        {
            throw Unprocessable("cannot remove the document root");
        }

        var parent = ResolveParent(root, tokens, path);
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var child):
                removed = child;
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var idx) && idx < a.Count:
                removed = a[idx];
                a.RemoveAt(idx);
                break;
            default:
                throw Unprocessable($"remove operation does not apply: doc is missing path: \"{path}\": missing value");
        }

        return root;
    }

    private static JsonNode? ResolveParent(JsonNode root, List<string> tokens, string path)
    {
        var parentPath = string.Concat(tokens.Take(tokens.Count - 1).Select(t => "/" + t.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));
        try
        {
            return Resolve(root, parentPath);
        }
        catch (ApiException)
        {
            throw Unprocessable($"doc is missing path: \"{path}\": missing value");
        }
    }

    // ---------------- merge patch ----------------

    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? Json.Clone(t) : new JsonObject();
        foreach (var (key, value) in p)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = MergePatch(result[key], value);
            }
        }

        return result;
    }

    // ---------------- strategic merge patch (subset) ----------------

    /// <summary>Lists merged element-wise by a key, by field name (the built-in kinds we serve).</summary>
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["volumes"] = "name",
        ["env"] = "name",
        ["imagePullSecrets"] = "name",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["conditions"] = "type",
        ["ownerReferences"] = "uid",
        ["tolerations"] = "key",
        ["hostAliases"] = "ip",
        ["topologySpreadConstraints"] = "topologyKey",
    };

    /// <summary>The key a built-in list field merges by (container ports by containerPort, service ports by port), or null for atomic lists.</summary>
    public static string? MergeKeyFor(string field, JsonArray list)
    {
        if (field == "ports")
        {
            return list.OfType<JsonObject>().Any(o => o.ContainsKey("containerPort")) ? "containerPort" : "port";
        }

        return MergeKeys.GetValueOrDefault(field);
    }

    public static JsonObject StrategicMerge(JsonObject target, JsonObject patch) =>
        (JsonObject)StrategicMergeNode(target, patch)!;

    private static JsonNode? StrategicMergeNode(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        if (Json.String(p["$patch"]) == "replace")
        {
            var replaced = Json.Clone(p);
            replaced.Remove("$patch");
            return StripDirectives(replaced);
        }

        if (Json.String(p["$patch"]) == "delete")
        {
            return null;
        }

        var result = target is JsonObject t ? Json.Clone(t) : new JsonObject();
        if (p["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(x => Json.String(x)).ToHashSet(StringComparer.Ordinal);
            foreach (var k in result.Select(kv => kv.Key).ToList())
            {
                if (!keep.Contains(k))
                {
                    result.Remove(k);
                }
            }
        }

        foreach (var (key, value) in p)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) || key is "$retainKeys" or "$patch")
            {
                continue;
            }

            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray existing && value is JsonArray remove)
                {
                    var drop = remove.Select(Json.Scalar).ToHashSet(StringComparer.Ordinal);
                    var kept = new JsonArray([.. existing.Where(e => !drop.Contains(Json.Scalar(e))).Select(e => e?.DeepClone())]);
                    result[field] = kept;
                }

                continue;
            }

            if (value is null)
            {
                result.Remove(key);
            }
            else if (value is JsonArray list)
            {
                result[key] = MergeList(result[key] as JsonArray, list, key);
            }
            else if (value is JsonObject)
            {
                var merged = StrategicMergeNode(result[key], value);
                if (merged is null)
                {
                    result.Remove(key);
                }
                else
                {
                    result[key] = merged;
                }
            }
            else
            {
                result[key] = value.DeepClone();
            }
        }

        return result;
    }

    private static JsonArray MergeList(JsonArray? existing, JsonArray patch, string field)
    {
        if (patch.OfType<JsonObject>().Any(o => Json.String(o["$patch"]) == "replace"))
        {
            return new JsonArray([.. patch.OfType<JsonObject>().Where(o => Json.String(o["$patch"]) != "replace").Select(o => StripDirectives(Json.Clone(o)))]);
        }

        if (field == "finalizers")
        {
            var union = existing is null ? new JsonArray() : (JsonArray)existing.DeepClone();
            foreach (var v in patch)
            {
                if (!union.Any(u => Json.Equal(u, v)))
                {
                    union.Add(v?.DeepClone());
                }
            }

            return union;
        }

        var mergeKey = MergeKeyFor(field, patch);
        if (mergeKey is null || existing is null || !patch.All(e => e is JsonObject))
        {
            return new JsonArray([.. patch.Select(e => e is JsonObject o ? StripDirectives(Json.Clone(o)) : e?.DeepClone())]);
        }

        var result = (JsonArray)existing.DeepClone();
        foreach (var element in patch.OfType<JsonObject>())
        {
            var keyValue = element[mergeKey];
            var index = -1;
            for (var i = 0; i < result.Count; i++)
            {
                if (result[i] is JsonObject r && Json.Equal(r[mergeKey], keyValue))
                {
                    index = i;
                    break;
                }
            }

            if (Json.String(element["$patch"]) == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                result[index] = StrategicMergeNode(result[index], element);
            }
            else
            {
                result.Add(StripDirectives(Json.Clone(element)));
            }
        }

        return result;
    }

    private static JsonObject StripDirectives(JsonObject o)
    {
        foreach (var k in o.Select(kv => kv.Key).Where(k => k.StartsWith('$')).ToList())
        {
            o.Remove(k);
        }

        foreach (var (_, v) in o)
        {
            if (v is JsonObject child)
            {
                StripDirectives(child);
            }
            else if (v is JsonArray arr)
            {
                foreach (var e in arr.OfType<JsonObject>())
                {
                    StripDirectives(e);
                }
            }
        }

        return o;
    }
}
