using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>
/// Field ownership for server-side apply, per object and per (manager, operation) as in managedFields: an apply
/// records the fields it set under "manager/Apply", other writes (create, update, patch) move the fields they
/// change to "manager/Update". A later apply by the same manager that omits a field removes it unless another
/// entry still owns it; an apply without force that would change a field another manager owns is refused with
/// a conflict (409); with force it takes the field over. The caller holds the store gate.
/// </summary>
internal sealed class AppliedFieldSets
{
    private const string ApplyOperation = "Apply";
    private const string UpdateOperation = "Update";

    private static readonly HashSet<string> ServerOwnedMetadata = new(StringComparer.Ordinal)
    {
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink",
    };

    private readonly Dictionary<string, Dictionary<(string Manager, string Operation), HashSet<string>>> _byUid = new(StringComparer.Ordinal);

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
        if (!_byUid.TryGetValue(uid, out var managers) || !managers.TryGetValue((manager, ApplyOperation), out var before))
        {
            return live;
        }

        var others = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (m, set) in managers)
        {
            if (m != (manager, ApplyOperation))
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

    /// <summary>
    /// The fields an apply would change that another manager owns, as "conflict with \"m\": .a.b" lines;
    /// empty when there is none.
    /// </summary>
    public List<string> Conflicts(string uid, string manager, HashSet<string> applying, JsonObject applied, JsonObject live)
    {
        var conflicts = new List<string>();
        if (!_byUid.TryGetValue(uid, out var managers))
        {
            return conflicts;
        }

        foreach (var ((m, operation), set) in managers.OrderBy(p => p.Key.Manager, StringComparer.Ordinal))
        {
            if ((m, operation) == (manager, ApplyOperation))
            {
                continue;
            }

            foreach (var path in applying.Where(set.Contains).Order(StringComparer.Ordinal))
            {
                if (!Json.Equal(Lookup(applied, path), Lookup(live, path)))
                {
                    conflicts.Add($"conflict with \"{m}\": .{path.Replace('/', '.')}");
                }
            }
        }

        return conflicts;
    }

    /// <summary>Records what an apply set; with force the applied fields are taken from every other manager.</summary>
    public void Record(string uid, string manager, HashSet<string> paths, bool force = false)
    {
        var managers = ManagersOf(uid);
        managers[(manager, ApplyOperation)] = paths;
        if (force)
        {
            foreach (var (key, set) in managers)
            {
                if (key != (manager, ApplyOperation))
                {
                    set.ExceptWith(paths);
                }
            }
        }
    }

    /// <summary>Records a create, update or non-apply patch: the fields it changed now belong to the writer.</summary>
    public void RecordWrite(string uid, string manager, JsonObject? before, JsonObject after, bool builtin)
    {
        var managers = ManagersOf(uid);
        var changed = PathsOf(WithoutStatus(after), builtin);
        if (before is not null)
        {
            changed.RemoveWhere(p => Json.Equal(Lookup(before, p), Lookup(after, p)));
        }

        foreach (var (key, set) in managers)
        {
            set.ExceptWith(changed);
            set.RemoveWhere(p => Lookup(after, p) is null);
        }

        if (changed.Count > 0)
        {
            if (!managers.TryGetValue((manager, UpdateOperation), out var own))
            {
                own = new HashSet<string>(StringComparer.Ordinal);
                managers[(manager, UpdateOperation)] = own;
            }

            own.UnionWith(changed);
        }
    }

    /// <summary>Drops what was recorded for a deleted object.</summary>
    public void Forget(string uid) => _byUid.Remove(uid);

    private Dictionary<(string Manager, string Operation), HashSet<string>> ManagersOf(string uid)
    {
        if (!_byUid.TryGetValue(uid, out var managers))
        {
            managers = [];
            _byUid[uid] = managers;
        }

        return managers;
    }

    private static JsonObject WithoutStatus(JsonObject obj)
    {
        if (!obj.ContainsKey("status"))
        {
            return obj;
        }

        var copy = Json.Clone(obj);
        copy.Remove("status");
        return copy;
    }

    /// <summary>The value at a path (null when absent).</summary>
    private static JsonNode? Lookup(JsonObject root, string path)
    {
        JsonNode? node = root;
        foreach (var segment in path.Split('/'))
        {
            if (!TryStep(node, segment, out var next, out _, out _))
            {
                return null;
            }

            node = next;
        }

        return node;
    }

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
                PruneEmpty(root, segments);
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

        PruneEmpty(root, segments);
    }

    /// <summary>A map or list left empty by removals goes too, as when its owner stops applying it.</summary>
    private static void PruneEmpty(JsonObject root, string[] segments)
    {
        for (var depth = segments.Length - 1; depth >= 1; depth--)
        {
            JsonNode? container = root;
            JsonNode? parent = null;
            var found = true;
            for (var i = 0; i < depth && found; i++)
            {
                parent = container;
                found = TryStep(container, segments[i], out container, out _, out _);
            }

            if (!found)
            {
                // Already gone (a list element removed with its key): look at the level above.
                continue;
            }

            if (container is not (JsonObject { Count: 0 } or JsonArray { Count: 0 }) || parent is null)
            {
                return;
            }

            switch (parent)
            {
                case JsonObject o:
                    o.Remove(Unescape(segments[depth - 1]));
                    break;
                case JsonArray a:
                    a.Remove(container);
                    break;
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
