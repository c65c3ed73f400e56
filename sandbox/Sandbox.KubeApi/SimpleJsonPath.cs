using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>
/// The JSONPath subset printer columns use: <c>.a.b</c>, <c>[n]</c>, <c>[*]</c> and
/// <c>[?(@.key=="value")]</c> filters. Returns every match.
/// </summary>
internal static class SimpleJsonPath
{
    public static List<JsonNode?> Evaluate(JsonNode? root, string path)
    {
        var current = new List<JsonNode?> { root };
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}'))
        {
            p = p[1..^1];
        }

        if (p.StartsWith('$'))
        {
            p = p[1..];
        }

        var i = 0;
        while (i < p.Length && current.Count > 0)
        {
            if (p[i] == '.')
            {
                i++;
                var start = i;
                while (i < p.Length && p[i] is not ('.' or '['))
                {
                    i++;
                }

                var key = p[start..i];
                current = [.. current.Select(n => n is JsonObject o ? o[key] : null).Where(n => n is not null)];
            }
            else if (p[i] == '[')
            {
                var end = p.IndexOf(']', i);
                if (end < 0)
                {
                    return [];
                }

                var inner = p[(i + 1)..end];
                i = end + 1;
                current = [.. current.SelectMany(n => Index(n, inner))];
            }
            else
            {
                return [];
            }
        }

        return current;
    }

    private static IEnumerable<JsonNode?> Index(JsonNode? node, string inner)
    {
        if (node is not JsonArray a)
        {
            return [];
        }

        if (inner == "*")
        {
            return a.Where(x => x is not null);
        }

        if (int.TryParse(inner, out var idx))
        {
            if (idx < 0)
            {
                idx += a.Count;
            }

            return idx >= 0 && idx < a.Count ? [a[idx]] : [];
        }

        if (inner.StartsWith("?(@.", StringComparison.Ordinal) && inner.EndsWith(')'))
        {
            var expr = inner[4..^1];
            var eq = expr.IndexOf("==", StringComparison.Ordinal);
            if (eq < 0)
            {
                return a.Where(x => Json.At(x, expr) is not null);
            }

            var field = expr[..eq].Trim();
            var value = expr[(eq + 2)..].Trim().Trim('"', '\'');
            return a.Where(x => Json.Scalar(Json.At(x, field)) == value);
        }

        return [];
    }
}
