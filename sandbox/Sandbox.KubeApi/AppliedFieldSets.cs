using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>
/// Server-side apply, level 2: remembers which fields each field manager applied to an object, so that a later
/// apply by the same manager that omits a field removes it (unless another applier also set it). Conflicts
/// between managers (level 3) and ownership taken by plain updates are not tracked.
/// The caller holds the store gate.
/// </summary>
internal sealed class AppliedFieldSets
{
    private static readonly HashSet<string> ServerOwnedMetadata = new(StringComparer.Ordinal)
    {
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink",
    };

    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _byUid = new(StringComparer.Ordinal);

    /// <summary>Leaf paths of an applied configuration; keyed lists of built-ins contribute one path per element field.</summary>
    public static HashSet<string> PathsOf(JsonObject applied, bool builtin)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        Collect(applied, "", "", builtin, paths);
        return paths;
    }

    /// <summary>Removes from <paramref name="live"/> the fields this manager applied before but no longer applies.</summary>
    public JsonObject RemoveAbandoned(string uid, string manager, HashSet<string> applying, JsonObject live, bool builtin)
    {
        if (!_byUid.TryGetValue(uid, out var managers) || !managers.TryGetValue(manager, out var before))
        {
            return live;
        }

        var others = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (m, set) in managers)
        {
            if (m != manager)
            {
                others.UnionWith(set);
            }
        }

        var result = Json.Clone(live);
        foreach (var path in before.Where(p => !applying.Contains(p) && !others.Contains(p)).OrderByDescending(p => p.Length))
        {
            Remove(result, path, builtin);
        }

        return result;
    }

    public void Record(string uid, string manager, HashSet<string> paths)
    {
        if (!_byUid.TryGetValue(uid, out var managers))
        {
            managers = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            _byUid[uid] = managers;
        }

        managers[manager] = paths;
    }

    /// <summary>Drops what was recorded for a deleted object.</summary>
    public void Forget(string uid) => _byUid.Remove(uid);

    private static void Collect(JsonNode? node, string prefix, string field, bool builtin, HashSet<string> paths)
    {
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                foreach (var (key, value) in o)
                {
                    if ((prefix.Length == 0 && key is "apiVersion" or "kind") || (prefix == "metadata" && ServerOwnedMetadata.Contains(key)))
                    {
                        continue;
                    }

                    Collect(value, Join(prefix, Escape(key)), key, builtin, paths);
                }

                break;
            case JsonArray a when builtin && Patches.MergeKeyFor(field, a) is { } mergeKey && a.Count > 0 && a.All(e => e is JsonObject eo && eo.ContainsKey(mergeKey)):
                foreach (var element in a.OfType<JsonObject>())
                {
                    Collect(element, Join(prefix, ElementSegment(mergeKey, element[mergeKey])), field, builtin, paths);
                }

                break;
            default:
                if (prefix.Length > 0)
                {
                    paths.Add(prefix);
                }

                break;
        }
    }

    private static void Remove(JsonObject root, string path, bool builtin)
    {
        var segments = path.Split('/');
        JsonNode? node = root;
        JsonArray? elementList = null;
        JsonObject? element = null;
        string? elementKey = null;
        for (var i = 0; i < segments.Length - 1; i++)
        {
            if (!TryStep(node, segments[i], out var next, out var list, out var key))
            {
                return;
            }

            if (list is not null)
            {
                (elementList, element, elementKey) = (list, next as JsonObject, key);
            }

            node = next;
        }

        var last = segments[^1];
        if (last.StartsWith('['))
        {
            if (TryStep(node, last, out var gone, out var list, out _) && list is not null)
            {
                list.Remove(gone);
            }

            return;
        }

        if (node is JsonObject parent)
        {
            var key = Unescape(last);
            parent.Remove(key);
            if (builtin && element is not null && ReferenceEquals(parent, element) && (key == elementKey || (element.Count == 1 && element.ContainsKey(elementKey!))))
            {
                elementList!.Remove(element);
            }
        }
    }

    private static bool TryStep(JsonNode? node, string segment, out JsonNode? next, out JsonArray? list, out string? mergeKey)
    {
        list = null;
        mergeKey = null;
        next = null;
        if (segment.StartsWith('[') && node is JsonArray array)
        {
            var inner = segment[1..^1];
            var eq = inner.IndexOf('=', StringComparison.Ordinal);
            mergeKey = Unescape(inner[..eq]);
            var value = JsonNode.Parse(Unescape(inner[(eq + 1)..]));
            var key = mergeKey;
            next = array.OfType<JsonObject>().FirstOrDefault(e => Json.Equal(e[key], value));
            list = array;
            return next is not null;
        }

        if (node is JsonObject o && o[Unescape(segment)] is { } child)
        {
            next = child;
            return true;
        }

        return false;
    }

    private static string ElementSegment(string key, JsonNode? value) =>
        "[" + Escape(key) + "=" + Escape(value?.ToJsonString() ?? "null") + "]";

    private static string Join(string prefix, string segment) => prefix.Length == 0 ? segment : prefix + "/" + segment;

    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '~' => "~0",
                '/' => "~1",
                '[' => "~2",
                ']' => "~3",
                '=' => "~4",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    private static string Unescape(string s) =>
        s.Replace("~4", "=", StringComparison.Ordinal).Replace("~3", "]", StringComparison.Ordinal).Replace("~2", "[", StringComparison.Ordinal)
         .Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
}
