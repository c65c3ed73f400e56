using ControllerRuntime.Schema;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Crds;

namespace Greenhouse.Operator.Tests.Crds;

public sealed class CrdManifestTests
{
    [Fact]
    public void Committed_crd_yaml_matches_the_api_types_run_make_generate_when_this_fails()
    {
        var entity = typeof(GreenhouseIntegration);
        var path = RepositoryPaths.Combine("crds", CrdManifests.FileName(entity));

        Assert.True(File.Exists(path), $"{path} is missing; run `make generate`.");
        Assert.Equal(CrdManifests.ToYaml(entity), File.ReadAllText(path));
    }

    [Fact]
    public void Every_spec_and_status_field_has_a_description_for_kubectl_explain()
    {
        var schema = OpenApiSchema();
        var properties = (OrderedDictionary<string, object?>)schema["properties"]!;
        var undocumented = new List<string>();
        foreach (var root in new[] { "spec", "status" })
        {
            CollectUndocumented((OrderedDictionary<string, object?>)properties[root]!, root, undocumented);
        }

        Assert.Empty(undocumented);
    }

    [Fact]
    public void Crd_declares_names_status_subresource_and_printer_columns()
    {
        var crd = CrdGenerator.Generate(typeof(GreenhouseIntegration));
        var spec = (OrderedDictionary<string, object?>)crd["spec"]!;
        var names = (OrderedDictionary<string, object?>)spec["names"]!;
        var version = (OrderedDictionary<string, object?>)((List<object?>)spec["versions"]!)[0]!;
        var columns = ((List<OrderedDictionary<string, object?>>)version["additionalPrinterColumns"]!).Select(c => c["name"]).ToList();

        Assert.Equal("greenhouseintegrations.greenhouse.resource.io", ((OrderedDictionary<string, object?>)crd["metadata"]!)["name"]);
        Assert.Equal(["ghi"], (List<string>)names["shortNames"]!);
        Assert.Equal("Namespaced", spec["scope"]);
        Assert.Equal("v1alpha1", version["name"]);
        Assert.True(((OrderedDictionary<string, object?>)version["subresources"]!).ContainsKey("status"));
        Assert.Equal(["Ready", "Webhook URL", "Last event", "Lag", "Age"], columns);
    }

    [Fact]
    public void Schema_carries_defaults_minimums_formats_and_enums()
    {
        var spec = Child(OpenApiSchema(), "spec");

        Assert.Equal("https://harvest.greenhouse.io/v3", Child(Child(spec, "harvest"), "baseUrl")["default"]);
        Assert.Equal(1L, Child(Child(spec, "harvest"), "syncUserId")["minimum"]);
        Assert.Equal("uri", Child(Child(spec, "webhook"), "endpoint")["format"]);
        Assert.Equal("15m", Child(Child(spec, "sync"), "resyncInterval")["default"]);
        Assert.Equal(1L, Child(Child(spec, "receiver"), "replicas")["default"]);
        Assert.True(Child(Child(spec, "storage"), "size").ContainsKey("x-kubernetes-int-or-string"));
        var events = (OrderedDictionary<string, object?>)Child(Child(spec, "webhook"), "events")["items"]!;
        Assert.Contains("candidate_stage_change", (List<object?>)events["enum"]!);
        Assert.Equal(29, ((List<object?>)events["enum"]!).Count);
    }

    private static OrderedDictionary<string, object?> OpenApiSchema()
    {
        var crd = CrdGenerator.Generate(typeof(GreenhouseIntegration));
        var version = (OrderedDictionary<string, object?>)((List<object?>)((OrderedDictionary<string, object?>)crd["spec"]!)["versions"]!)[0]!;
        return (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)version["schema"]!)["openAPIV3Schema"]!;
    }

    private static OrderedDictionary<string, object?> Child(OrderedDictionary<string, object?> schema, string name) =>
        (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)schema["properties"]!)[name]!;

    private static void CollectUndocumented(OrderedDictionary<string, object?> schema, string path, List<string> undocumented)
    {
        if (!schema.ContainsKey("description"))
        {
            undocumented.Add(path);
        }

        if (schema.TryGetValue("properties", out var properties) && properties is OrderedDictionary<string, object?> children)
        {
            foreach (var (name, child) in children)
            {
                CollectUndocumented((OrderedDictionary<string, object?>)child!, $"{path}.{name}", undocumented);
            }
        }

        if (schema.TryGetValue("items", out var items) && items is OrderedDictionary<string, object?> itemSchema
            && itemSchema.TryGetValue("properties", out var itemProperties))
        {
            foreach (var (name, child) in (OrderedDictionary<string, object?>)itemProperties!)
            {
                CollectUndocumented((OrderedDictionary<string, object?>)child!, $"{path}[].{name}", undocumented);
            }
        }
    }
}
