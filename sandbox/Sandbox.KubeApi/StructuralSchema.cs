using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Sandbox.KubeApi;

/// <summary>What a CRD's openAPIV3Schema does to custom-resource writes: pruning, defaulting, validation.</summary>
internal static class StructuralSchema
{
    private static readonly string[] ForbiddenKeys = ["$ref", "definitions", "dependencies", "additionalItems", "patternProperties"];

    // ---------------- pruning ----------------

    /// <summary>Drops fields the schema does not know; returns their paths (for Strict and Warn field validation).</summary>
    public static List<string> Prune(JsonObject obj, JsonObject schema)
    {
        var pruned = new List<string>();
        PruneObject(obj, schema, "", pruned, isRoot: true);
        return pruned;
    }

    private static void PruneNode(JsonNode? node, JsonObject schema, string path, List<string> pruned)
    {
        switch (node)
        {
            case JsonObject o:
                PruneObject(o, schema, path, pruned, isRoot: false);
                break;
            case JsonArray a when schema["items"] is JsonObject items:
                for (var i = 0; i < a.Count; i++)
                {
                    PruneNode(a[i], items, $"{path}[{i}]", pruned);
                }

                break;
        }
    }

    private static void PruneObject(JsonObject obj, JsonObject schema, string path, List<string> pruned, bool isRoot)
    {
        var preserve = Json.IsTrue(schema["x-kubernetes-preserve-unknown-fields"]);
        var embedded = isRoot || Json.IsTrue(schema["x-kubernetes-embedded-resource"]);
        var properties = schema["properties"] as JsonObject;
        var additional = schema["additionalProperties"] as JsonObject;
        foreach (var key in obj.Select(kv => kv.Key).ToList())
        {
            var childPath = path.Length == 0 ? key : path + "." + key;
            if (embedded && key is "apiVersion" or "kind" or "metadata")
            {
                continue;
            }

            if (properties?[key] is JsonObject propSchema)
            {
                PruneNode(obj[key], propSchema, childPath, pruned);
            }
            else if (additional is not null)
            {
                PruneNode(obj[key], additional, childPath, pruned);
            }
            else if (!preserve && schema["additionalProperties"]?.GetValueKind() != JsonValueKind.True)
            {
                obj.Remove(key);
                pruned.Add(childPath);
            }
        }
    }

    // ---------------- defaulting ----------------

    public static void ApplyDefaults(JsonNode? node, JsonObject schema)
    {
        switch (node)
        {
            case JsonObject o:
                if (schema["properties"] is JsonObject props)
                {
                    foreach (var (key, propNode) in props)
                    {
                        if (propNode is not JsonObject prop)
                        {
                            continue;
                        }

                        var absent = !o.TryGetPropertyValue(key, out var current) || (current is null && !Json.IsTrue(prop["nullable"]));
                        if (absent && prop["default"] is { } def)
                        {
                            o[key] = def.DeepClone();
                        }

                        ApplyDefaults(o[key], prop);
                    }
                }

                if (schema["additionalProperties"] is JsonObject add)
                {
                    foreach (var (_, v) in o)
                    {
                        ApplyDefaults(v, add);
                    }
                }

                break;
            case JsonArray a when schema["items"] is JsonObject items:
                foreach (var e in a)
                {
                    ApplyDefaults(e, items);
                }

                break;
        }
    }

    // ---------------- validation ----------------

    public static List<FieldError> Validate(JsonNode? node, JsonObject schema, string path)
    {
        var errors = new List<FieldError>();
        ValidateNode(node, schema, path, errors, isRoot: path.Length == 0);
        return errors;
    }

    private static void ValidateNode(JsonNode? node, JsonObject schema, string path, List<FieldError> errors, bool isRoot = false)
    {
        var shown = path.Length == 0 ? "<root>" : path;
        if (node is null)
        {
            if (!Json.IsTrue(schema["nullable"]) && schema["type"] is not null)
            {
                errors.Add(FieldError.TypeInvalid(shown, null, $"{shown} in body must be of type {Json.String(schema["type"])}: \"null\""));
            }

            return;
        }

        var intOrString = Json.IsTrue(schema["x-kubernetes-int-or-string"]);
        var type = Json.String(schema["type"]);
        if (intOrString)
        {
            if (!IsInteger(node) && !IsKind(node, JsonValueKind.String))
            {
                errors.Add(FieldError.TypeInvalid(shown, JsonValue.Create(TypeName(node)), $"{shown} in body must be of type integer,string: {Quoted(TypeName(node))}"));
                return;
            }
        }
        else if (type is not null && !TypeMatches(node, type))
        {
            // The real server reports the offending JSON type, not the value.
            errors.Add(FieldError.TypeInvalid(shown, JsonValue.Create(TypeName(node)), $"{shown} in body must be of type {type}: {Quoted(TypeName(node))}"));
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => Json.Equal(a, node)))
        {
            errors.Add(FieldError.NotSupported(shown, node, allowed.Select(a => a is null ? "null" : FieldError.Render(a))));
        }

        switch (node)
        {
            case JsonObject o:
                if (schema["required"] is JsonArray required)
                {
                    foreach (var r in required.Select(Json.String).OfType<string>())
                    {
                        if (!o.ContainsKey(r))
                        {
                            errors.Add(FieldError.Required(path.Length == 0 ? r : path + "." + r));
                        }
                    }
                }

                var props = schema["properties"] as JsonObject;
                var additional = schema["additionalProperties"] as JsonObject;
                foreach (var (key, value) in o)
                {
                    if (isRoot && key is "apiVersion" or "kind" or "metadata")
                    {
                        // The schema may restrict metadata.name and generateName (length, pattern), nothing else.
                        if (key == "metadata" && value is JsonObject meta && props?["metadata"]?["properties"] is JsonObject metaProps)
                        {
                            foreach (var field in new[] { "name", "generateName" })
                            {
                                if (metaProps[field] is JsonObject fieldSchema && meta[field] is JsonValue fieldValue && IsKind(fieldValue, JsonValueKind.String))
                                {
                                    CheckString(fieldValue.GetValue<string>(), fieldSchema, "metadata." + field, fieldValue, errors);
                                }
                            }
                        }

                        continue;
                    }

                    var childPath = path.Length == 0 ? key : path + "." + key;
                    if (props?[key] is JsonObject ps)
                    {
                        ValidateNode(value, ps, childPath, errors);
                    }
                    else if (additional is not null)
                    {
                        ValidateNode(value, additional, childPath, errors);
                    }
                }

                CheckCount(o.Count, schema, "minProperties", "maxProperties", shown, node, "properties", errors);
                break;
            case JsonArray a:
                if (schema["items"] is JsonObject items)
                {
                    for (var i = 0; i < a.Count; i++)
                    {
                        ValidateNode(a[i], items, $"{path}[{i}]", errors);
                    }
                }

                if (schema["maxItems"] is { } maxItems && a.Count > Json.Int(maxItems))
                {
                    errors.Add(FieldError.TooMany(shown, Json.Int(maxItems)));
                }

                if (schema["minItems"] is { } minItems && a.Count < Json.Int(minItems))
                {
                    errors.Add(FieldError.Invalid(shown, JsonValue.Create(a.Count), $"{shown} in body should have at least {Json.Int(minItems)} items"));
                }

                CheckListType(a, schema, path, errors);
                break;
            case JsonValue v when IsKind(v, JsonValueKind.String):
                CheckString(v.GetValue<string>(), schema, shown, node, errors);
                break;
            case JsonValue v when IsKind(v, JsonValueKind.Number):
                CheckNumber(Json.Number(v) ?? 0, schema, shown, node, errors);
                break;
        }

        foreach (var sub in (schema["allOf"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            ValidateNode(node, sub, path, errors);
        }

        if (schema["anyOf"] is JsonArray anyOf && !anyOf.OfType<JsonObject>().Any(s => Validate(node, s, path).Count == 0))
        {
            errors.Add(FieldError.Invalid(shown, node, "must validate at least one schema (anyOf)"));
        }

        if (schema["oneOf"] is JsonArray oneOf && oneOf.OfType<JsonObject>().Count(s => Validate(node, s, path).Count == 0) != 1)
        {
            errors.Add(FieldError.Invalid(shown, node, "must validate one and only one schema (oneOf)"));
        }
    }

    private static void CheckCount(int count, JsonObject schema, string minKey, string maxKey, string shown, JsonNode node, string what, List<FieldError> errors)
    {
        if (schema[minKey] is { } min && count < Json.Int(min))
        {
            errors.Add(FieldError.Invalid(shown, node, $"{shown} in body should have at least {Json.Int(min)} {what}"));
        }

        if (schema[maxKey] is { } max && count > Json.Int(max))
        {
            errors.Add(FieldError.TooMany(shown, Json.Int(max)));
        }
    }

    private static void CheckString(string s, JsonObject schema, string shown, JsonNode node, List<FieldError> errors)
    {
        if (schema["minLength"] is { } min && s.Length < Json.Int(min))
        {
            errors.Add(FieldError.Invalid(shown, node, $"{shown} in body should be at least {Json.Int(min)} chars long"));
        }

        if (schema["maxLength"] is { } max && s.Length > Json.Int(max))
        {
            errors.Add(FieldError.TooLong(shown, Json.Int(max)));
        }

        if (Json.String(schema["pattern"]) is { } pattern && !Regex.IsMatch(s, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            errors.Add(FieldError.Invalid(shown, node, $"{shown} in body should match '{pattern}'"));
        }

        if (Json.String(schema["format"]) is { } format && !FormatMatches(format, s))
        {
            errors.Add(FieldError.Invalid(shown, node, $"{shown} in body must be of type {format}: {FieldError.Render(node)}"));
        }
    }

    private static void CheckNumber(double d, JsonObject schema, string shown, JsonNode node, List<FieldError> errors)
    {
        var exclusiveMin = Json.IsTrue(schema["exclusiveMinimum"]);
        var exclusiveMax = Json.IsTrue(schema["exclusiveMaximum"]);
        if (schema["minimum"] is { } minNode)
        {
            var min = Json.Number(minNode) ?? 0;
            if (exclusiveMin ? d <= min : d < min)
            {
                errors.Add(FieldError.Invalid(shown, node, $"{shown} in body should be greater than {(exclusiveMin ? "" : "or equal to ")}{minNode.ToJsonString()}"));
            }
        }

        if (schema["maximum"] is { } maxNode)
        {
            var max = Json.Number(maxNode) ?? 0;
            if (exclusiveMax ? d >= max : d > max)
            {
                errors.Add(FieldError.Invalid(shown, node, $"{shown} in body should be less than {(exclusiveMax ? "" : "or equal to ")}{maxNode.ToJsonString()}"));
            }
        }

        if (schema["multipleOf"] is { } mult && (Json.Number(mult) ?? 0) != 0 && Math.Abs(Math.IEEERemainder(d, (Json.Number(mult) ?? 0))) > 1e-9)
        {
            errors.Add(FieldError.Invalid(shown, node, $"{shown} in body should be a multiple of {mult.ToJsonString()}"));
        }
    }

    private static void CheckListType(JsonArray a, JsonObject schema, string path, List<FieldError> errors)
    {
        var listType = Json.String(schema["x-kubernetes-list-type"]);
        if (listType == "set")
        {
            for (var i = 0; i < a.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (Json.Equal(a[i], a[j]))
                    {
                        errors.Add(FieldError.Duplicate($"{path}[{i}]", a[i]));
                        break;
                    }
                }
            }
        }
        else if (listType == "map" && schema["x-kubernetes-list-map-keys"] is JsonArray keys)
        {
            var keyNames = keys.Select(Json.String).OfType<string>().ToList();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < a.Count; i++)
            {
                var composite = string.Join("\u0000", keyNames.Select(k => a[i]?[k]?.ToJsonString() ?? "null"));
                if (!seen.Add(composite))
                {
                    errors.Add(FieldError.Duplicate($"{path}[{i}]", new JsonObject(keyNames.Select(k => KeyValuePair.Create(k, a[i]?[k]?.DeepClone())))));
                }
            }
        }
    }

    private static bool FormatMatches(string format, string s) => format switch
    {
        "date-time" => DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out _) && s.Contains('T', StringComparison.OrdinalIgnoreCase),
        "date" => DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        "uri" => Uri.TryCreate(s, UriKind.Absolute, out _),
        "email" => s.Contains('@', StringComparison.Ordinal) && !s.StartsWith('@') && !s.EndsWith('@'),
        "uuid" => Guid.TryParse(s, out _),
        "hostname" => s.Length <= 253 && LabelSelector.SubdomainRegex().IsMatch(s),
        "ipv4" => System.Net.IPAddress.TryParse(s, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork,
        "duration" => IsGoDuration(s),
        _ => true,
    };

    private static bool IsGoDuration(string s) => Regex.IsMatch(s, "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$", RegexOptions.None, TimeSpan.FromSeconds(1));

    private static bool IsKind(JsonNode node, JsonValueKind kind) => node is JsonValue v && v.GetValueKind() == kind;

    private static bool IsInteger(JsonNode node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && Json.Number(v) is { } d && Math.Floor(d) == d && !v.ToJsonString().Contains('.', StringComparison.Ordinal);

    private static bool TypeMatches(JsonNode node, string type) => type switch
    {
        "object" => node is JsonObject,
        "array" => node is JsonArray,
        "string" => IsKind(node, JsonValueKind.String),
        "integer" => IsInteger(node),
        "number" => IsKind(node, JsonValueKind.Number),
        "boolean" => IsKind(node, JsonValueKind.True) || IsKind(node, JsonValueKind.False),
        _ => true,
    };

    private static string TypeName(JsonNode node) => node switch
    {
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => IsInteger(v) ? "integer" : "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "null",
        },
        _ => "null",
    };

    private static string Quoted(string s) => "\"" + s + "\"";

    // ---------------- CRD checks ----------------

    /// <summary>The structural-schema rules checked when a CRD is created or updated.</summary>
    public static List<FieldError> CheckStructural(JsonObject schema, string path)
    {
        var errors = new List<FieldError>();
        if (Json.String(schema["type"]) != "object")
        {
            errors.Add(FieldError.Invalid(path + ".type", schema["type"], "must be object at the root"));
        }

        CheckNode(schema, path, errors, isRoot: true);
        return errors;
    }

    private static void CheckNode(JsonObject s, string path, List<FieldError> errors, bool isRoot)
    {
        foreach (var key in ForbiddenKeys)
        {
            if (s.ContainsKey(key))
            {
                errors.Add(FieldError.Forbidden($"{path}.{key}", "must not be used in a structural schema"));
            }
        }

        if (s["uniqueItems"]?.GetValueKind() == JsonValueKind.True)
        {
            errors.Add(FieldError.Forbidden($"{path}.uniqueItems", "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
        }

        var preserve = Json.IsTrue(s["x-kubernetes-preserve-unknown-fields"]);
        var intOrString = Json.IsTrue(s["x-kubernetes-int-or-string"]);
        var type = Json.String(s["type"]);
        if (type is null && !preserve && !intOrString)
        {
            errors.Add(FieldError.Required($"{path}.type", "must not be empty for specified object fields"));
        }

        if (s["properties"] is JsonObject && s["additionalProperties"] is JsonObject)
        {
            errors.Add(FieldError.Forbidden($"{path}.additionalProperties", "additionalProperties and properties are mutual exclusive"));
        }

        if (type == "array" && s["items"] is not JsonObject)
        {
            errors.Add(FieldError.Required($"{path}.items", "must be specified"));
        }

        if (s["default"] is { } def)
        {
            var problems = Validate(def.DeepClone(), s, "");
            if (problems.Count > 0)
            {
                errors.Add(FieldError.Invalid($"{path}.default", def, problems[0].Message));
            }
        }

        if (s["properties"] is JsonObject props)
        {
            foreach (var (key, child) in props)
            {
                if (child is not JsonObject c)
                {
                    continue;
                }

                if (isRoot && key == "metadata")
                {
                    var extra = (c["properties"] as JsonObject)?.Select(kv => kv.Key).Where(k => k is not ("name" or "generateName")).ToList() ?? [];
                    if (extra.Count > 0)
                    {
                        errors.Add(FieldError.Forbidden($"{path}.properties[metadata]", "must not specify anything other than name and generateName"));
                    }

                    if (c["default"] is not null)
                    {
                        errors.Add(FieldError.Forbidden($"{path}.properties[metadata].default", "must not be set for metadata"));
                    }

                    continue;
                }

                CheckNode(c, $"{path}.properties[{key}]", errors, isRoot: false);
            }
        }

        if (s["additionalProperties"] is JsonObject add)
        {
            CheckNode(add, path + ".additionalProperties", errors, isRoot: false);
        }

        if (s["items"] is JsonObject items)
        {
            CheckNode(items, path + ".items", errors, isRoot: false);
        }
    }
}
