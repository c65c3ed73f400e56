using System.Reflection;
using Greenhouse.Operator.Configuration;
using Greenhouse.Testing;
using YamlDotNet.RepresentationModel;

namespace EndToEnd.Tests;

/// <summary>The chart a platform team installs: it lints, renders the RBAC the settings ask for, and stays in step with the operator.</summary>
public sealed class HelmChartTests
{
    private static readonly string Chart = RepositoryPaths.Combine("charts", "greenhouse-operator");

    [Fact]
    public async Task Chart_passes_helm_lint_in_strict_mode()
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Helm, ["lint", "--strict", Chart]);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Default_install_watches_all_namespaces_through_a_cluster_role_binding()
    {
        var objects = await RenderAsync();

        Assert.Single(objects, o => Kind(o) == "ClusterRoleBinding");
        Assert.DoesNotContain(objects, o => Kind(o) == "RoleBinding" && !Name(o).EndsWith("-leader-election", StringComparison.Ordinal));
        Assert.DoesNotContain(EnvNames(objects), n => n.StartsWith("Operator__WatchNamespaces__", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watched_namespaces_get_a_role_binding_each_and_no_cluster_wide_binding()
    {
        var objects = await RenderAsync("--set", "watchNamespaces={team-a,team-b}");

        Assert.DoesNotContain(objects, o => Kind(o) == "ClusterRoleBinding");
        var bindings = objects.Where(o => Kind(o) == "RoleBinding" && !Name(o).EndsWith("-leader-election", StringComparison.Ordinal)).ToList();
        Assert.Equal(["team-a", "team-b"], bindings.Select(o => Scalar(o, "metadata", "namespace")).Order());
        Assert.Contains("Operator__WatchNamespaces__1", EnvNames(objects));
    }

    [Fact]
    public async Task Disabling_leader_election_drops_the_lease_role_and_tells_the_operator()
    {
        var objects = await RenderAsync("--set", "leaderElection.enabled=false", "--set", "replicaCount=1");

        Assert.DoesNotContain(objects, o => Kind(o) == "Role");
        Assert.DoesNotContain(objects, o => Kind(o) == "PodDisruptionBudget");
        Assert.Equal("false", EnvValue(objects, "Operator__LeaderElection__Enabled"));
    }

    [Fact]
    public async Task Every_operator_setting_the_chart_sets_exists_in_OperatorSettings()
    {
        var objects = await RenderAsync("--set", "watchNamespaces={a}", "--set", "apiClientNamespaces={monitoring}");

        var settingNames = EnvNames(objects).Where(n => n.StartsWith("Operator__", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(settingNames);
        foreach (var name in settingNames)
        {
            Assert.True(BindsToSetting(typeof(OperatorSettings), name.Split("__").Skip(1).ToArray()), $"{name} does not bind to a property of OperatorSettings");
        }
    }

    [Fact]
    public void Chart_ships_the_generated_CRD_unchanged()
    {
        const string file = "greenhouse.resource.io_greenhouseintegrations.yaml";
        var generated = File.ReadAllText(RepositoryPaths.Combine("crds", file));
        var shipped = File.ReadAllText(Path.Combine(Chart, "crds", file));

        Assert.True(generated == shipped, $"charts/greenhouse-operator/crds/{file} differs from crds/{file}: run `make generate`");
    }

    private static bool BindsToSetting(Type type, string[] path)
    {
        if (path.Length == 0)
        {
            return true;
        }

        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null)
        {
            return false;
        }

        var propertyType = property.PropertyType;
        if (propertyType != typeof(string) && propertyType.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(propertyType))
        {
            // A list element: the next segment is the index.
            return path.Length == 2 && int.TryParse(path[1], out _);
        }

        return BindsToSetting(propertyType, path[1..]);
    }

    private static async Task<List<YamlMappingNode>> RenderAsync(params string[] extra)
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Helm, ["template", "ghi", Chart, "--namespace", "greenhouse-system", .. extra]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var stream = new YamlStream();
        stream.Load(new StringReader(result.StandardOutput));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    private static string Kind(YamlMappingNode node) => Scalar(node, "kind") ?? "";

    private static string Name(YamlMappingNode node) => Scalar(node, "metadata", "name") ?? "";

    private static string? Scalar(YamlMappingNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return null;
            }

            current = next;
        }

        return (current as YamlScalarNode)?.Value;
    }

    private static IEnumerable<YamlMappingNode> EnvEntries(List<YamlMappingNode> objects)
    {
        var deployment = Assert.Single(objects, o => Kind(o) == "Deployment");
        var containers = (YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"])["containers"];
        var container = (YamlMappingNode)Assert.Single(containers.Children);
        return ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>();
    }

    private static List<string> EnvNames(List<YamlMappingNode> objects) => EnvEntries(objects).Select(e => Scalar(e, "name")!).ToList();

    private static string? EnvValue(List<YamlMappingNode> objects, string name) =>
        EnvEntries(objects).Where(e => Scalar(e, "name") == name).Select(e => Scalar(e, "value")).SingleOrDefault();
}
