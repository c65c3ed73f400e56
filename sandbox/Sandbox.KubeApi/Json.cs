using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>Small helpers over System.Text.Json.Nodes used by every part of the emulator.</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static byte[] Bytes(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node, Options);

    public static string Text(JsonNode node) => node.ToJsonString(Options);

    public static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject m)
        {
            return m;
        }

        m = new JsonObject();
        obj["metadata"] = m;
        return m;
    }

    public static string? String(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static string? MetaString(JsonObject obj, string field) => String(obj["metadata"]?[field]);

    public static JsonObject Clone(JsonObject obj) => obj.DeepClone().AsObject();

    /// <summary>
    /// Forces the lazily parsed parts of a tree into nodes. A stored object is read by many threads at once
    /// (watchers, lists, controllers), and JsonNode's lazy initialisation is not safe under concurrent reads.
    /// </summary>
    public static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, v) in o)
                {
                    Materialize(v);
                }

                break;
            case JsonArray a:
                foreach (var v in a)
                {
                    Materialize(v);
                }

                break;
        }
    }

    /// <summary>Follows a dotted path (no leading dot) through objects.</summary>
    public static JsonNode? At(JsonNode? node, string dottedPath)
    {
        foreach (var part in dottedPath.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node is JsonObject o ? o[part] : null;
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    /// <summary>Text form of a scalar for selectors and tables.</summary>
    public static string? Scalar(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        },
        _ => Text(node),
    };

    public static IReadOnlyDictionary<string, string> Labels(JsonObject obj)
    {
        if (obj["metadata"]?["labels"] is not JsonObject labels || labels.Count == 0)
        {
            return Empty;
        }

        var d = new Dictionary<string, string>(labels.Count, StringComparer.Ordinal);
        foreach (var (k, v) in labels)
        {
            d[k] = Scalar(v) ?? "";
        }

        return d;
    }

    public static List<string> StringList(JsonNode? node) =>
        node is JsonArray a ? [.. a.Select(x => Scalar(x) ?? "")] : [];

    public static string FormatTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(JsonNode? node) =>
        String(node) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;

    /// <summary>A number whatever CLR type backs the node (parsed JSON, int or long literals).</summary>
    public static double? Number(JsonNode? node)
    {
        if (node is not JsonValue v)
        {
            return null;
        }

        if (v.TryGetValue<double>(out var d))
        {
            return d;
        }

        if (v.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (v.TryGetValue<int>(out var i))
        {
            return i;
        }

        return v.GetValueKind() == JsonValueKind.Number && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d) ? d : null;
    }

    public static long? Long(JsonNode? node) => Number(node) is { } d ? (long)d : null;

    public static int Int(JsonNode node) => (int)(Number(node) ?? 0);

    public static bool IsTrue(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    public static bool Equal(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);

    private static readonly Dictionary<string, string> Empty = new(StringComparer.Ordinal);
}
