using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>The resources being served: the built-in kinds plus every established CRD version.</summary>
internal sealed class ResourceRegistry
{
    private readonly object _gate = new();
    private readonly List<ResourceType> _builtins;
    private Dictionary<string, List<ResourceType>> _customByCrd = new(StringComparer.Ordinal);
    private volatile IReadOnlyList<ResourceType> _all;

    public ResourceRegistry()
    {
        _builtins = BuiltinResources.Create();
        _all = _builtins;
    }

    /// <summary>Grows whenever the set of served resources changes; used as the OpenAPI hash.</summary>
    public long Revision { get; private set; } = 1;

    public IReadOnlyList<ResourceType> All => _all;

    public ResourceType? Find(string group, string version, string plural)
    {
        foreach (var t in _all)
        {
            if (t.Plural == plural && t.Version == version && t.Group == group)
            {
                return t;
            }
        }

        return null;
    }

    public bool HasGroupVersion(string group, string version) => _all.Any(t => t.Group == group && t.Version == version);

    public ResourceType Builtin(string group, string plural) => _builtins.First(t => t.Group == group && t.Plural == plural);

    /// <summary>Serves (or re-serves, after an update) the versions of an established CRD.</summary>
    public void ServeCrd(JsonObject crd)
    {
        var name = crd["metadata"]?["name"]?.GetValue<string>() ?? "";
        var types = FromCrd(crd);
        lock (_gate)
        {
            var next = new Dictionary<string, List<ResourceType>>(_customByCrd, StringComparer.Ordinal) { [name] = types };
            Publish(next);
        }
    }

    public void StopServing(string crdName)
    {
        lock (_gate)
        {
            if (!_customByCrd.ContainsKey(crdName))
            {
                return;
            }

            var next = new Dictionary<string, List<ResourceType>>(_customByCrd, StringComparer.Ordinal);
            next.Remove(crdName);
            Publish(next);
        }
    }

    private void Publish(Dictionary<string, List<ResourceType>> next)
    {
        _customByCrd = next;
        _all = [.. _builtins, .. next.Values.SelectMany(v => v)];
        Revision++;
    }

    internal static List<ResourceType> FromCrd(JsonObject crd)
    {
        var spec = crd["spec"]!.AsObject();
        var group = spec["group"]!.GetValue<string>();
        var names = spec["names"]!.AsObject();
        var plural = names["plural"]!.GetValue<string>();
        var kind = names["kind"]!.GetValue<string>();
        var singular = names["singular"]?.GetValue<string>() ?? kind.ToLowerInvariant();
        var listKind = names["listKind"]?.GetValue<string>() ?? kind + "List";
        var shortNames = Strings(names["shortNames"]);
        var categories = Strings(names["categories"]);
        var namespaced = (spec["scope"]?.GetValue<string>() ?? "Namespaced") == "Namespaced";
        var result = new List<ResourceType>();
        foreach (var versionNode in spec["versions"]!.AsArray())
        {
            var v = versionNode!.AsObject();
            if (v["served"]?.GetValueKind() == System.Text.Json.JsonValueKind.False)
            {
                continue;
            }

            var subresources = v["subresources"] as JsonObject;
            var hasStatus = subresources?["status"] is JsonObject;
            ScalePaths? scale = null;
            if (subresources?["scale"] is JsonObject scaleNode)
            {
                scale = new ScalePaths(
                    scaleNode["specReplicasPath"]?.GetValue<string>() ?? ".spec.replicas",
                    scaleNode["statusReplicasPath"]?.GetValue<string>() ?? ".status.replicas",
                    scaleNode["labelSelectorPath"]?.GetValue<string>());
            }

            var columns = new List<PrinterColumn>();
            if (v["additionalPrinterColumns"] is JsonArray cols)
            {
                foreach (var c in cols.OfType<JsonObject>())
                {
                    columns.Add(new PrinterColumn(
                        c["name"]?.GetValue<string>() ?? "",
                        c["type"]?.GetValue<string>() ?? "string",
                        c["jsonPath"]?.GetValue<string>() ?? "",
                        c["format"]?.GetValue<string>() ?? "",
                        c["description"]?.GetValue<string>() ?? "",
                        (int)(Json.Long(c["priority"]) ?? 0)));
                }
            }

            var selectable = new List<string>();
            if (v["selectableFields"] is JsonArray sf)
            {
                selectable.AddRange(sf.OfType<JsonObject>().Select(o => o["jsonPath"]?.GetValue<string>()?.TrimStart('.') ?? "").Where(s => s.Length > 0));
            }

            result.Add(new ResourceType
            {
                Group = group,
                Version = v["name"]!.GetValue<string>(),
                Plural = plural,
                Kind = kind,
                Singular = singular,
                CustomListKind = listKind,
                Namespaced = namespaced,
                ShortNames = shortNames,
                Categories = categories,
                HasStatus = hasStatus,
                Scale = scale,
                Generation = hasStatus ? GenerationPolicy.Spec : GenerationPolicy.AllButMetadata,
                UpdateRequiresResourceVersion = true,
                IsCustom = true,
                Schema = v["schema"]?["openAPIV3Schema"]?.DeepClone() as JsonObject,
                Columns = columns,
                SelectableFields = selectable,
            });
        }

        return result;
    }

    private static string[] Strings(JsonNode? node) =>
        node is JsonArray a ? [.. a.Select(x => x?.GetValue<string>() ?? "").Where(s => s.Length > 0)] : [];
}
