using System.Reflection;
using System.Text.RegularExpressions;
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
        var generated = Directory.GetFiles(RepositoryPaths.Combine("crds"), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var shipped = Directory.GetFiles(Path.Combine(Chart, "files", "crds"), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(generated, shipped);
        foreach (var file in generated)
        {
            var same = File.ReadAllText(RepositoryPaths.Combine("crds", file!)) == File.ReadAllText(Path.Combine(Chart, "files", "crds", file!));
            Assert.True(same, $"charts/greenhouse-operator/files/crds/{file} differs from crds/{file}: run `make generate`");
        }

        Assert.False(Directory.Exists(Path.Combine(Chart, "crds")), "the chart's crds/ folder is never upgraded by Helm; the CRD belongs in files/crds (templates/crds.yaml)");
    }

    [Theory]
    [InlineData("--set", "replicaCount=two", "replicaCount: Invalid type. Expected: integer, given: string")]
    [InlineData("--set", "replicaCount=0", "replicaCount: Must be greater than or equal to 1")]
    [InlineData("--set", "logLevel=Verbose", "logLevel: logLevel must be one of the following")]
    [InlineData("--set", "monitoring.serviceMonitor.enable=true", "Additional property enable is not allowed")]
    [InlineData("--set", "watchNamespaces={Team_A}", "watchNamespaces.0: Does not match pattern")]
    public async Task Values_that_do_not_match_the_schema_are_refused_naming_the_value(string flag, string value, string message)
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Helm, ["template", "ghi", Chart, flag, value]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_value_in_values_yaml_is_described_by_the_schema()
    {
        var values = new YamlStream();
        values.Load(new StringReader(await File.ReadAllTextAsync(Path.Combine(Chart, "values.yaml"))));
        using var schema = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Chart, "values.schema.json")));

        var missing = Paths((YamlMappingNode)values.Documents[0].RootNode, "").Where(path => !Described(schema.RootElement, path.Split('.'))).ToList();

        Assert.True(missing.Count == 0, "values without a schema entry: " + string.Join(", ", missing));
        Assert.False(schema.RootElement.GetProperty("additionalProperties").GetBoolean(), "unknown top-level values must be refused");
    }

    [Fact]
    public async Task More_than_one_replica_without_leader_election_is_refused()
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Helm, ["template", "ghi", Chart, "--set", "leaderElection.enabled=false", "--set", "replicaCount=3"]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("replicaCount is 3 but leaderElection.enabled is false", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_CRD_is_a_kept_template_so_upgrades_update_it_and_uninstall_leaves_it()
    {
        var crd = Assert.Single(await RenderAsync(), o => Kind(o) == "CustomResourceDefinition");

        Assert.Equal("greenhouseintegrations.greenhouse.resource.io", Name(crd));
        Assert.Equal("keep", Scalar(crd, "metadata", "annotations", "helm.sh/resource-policy"));
        Assert.Equal("Helm", Scalar(crd, "metadata", "labels", "app.kubernetes.io/managed-by"));
        Assert.Equal("GreenhouseIntegration", Scalar(crd, "spec", "names", "kind"));
        Assert.Null(Scalar(Assert.Single(await RenderAsync("--set", "crds.keep=false"), o => Kind(o) == "CustomResourceDefinition"), "metadata", "annotations", "helm.sh/resource-policy"));
        Assert.DoesNotContain(await RenderAsync("--set", "crds.install=false"), o => Kind(o) == "CustomResourceDefinition");
    }

    [Fact]
    public async Task Receiver_image_defaults_to_the_chart_app_version_and_pull_secrets_reach_the_operator_settings()
    {
        var appVersion = Regex.Match(await File.ReadAllTextAsync(Path.Combine(Chart, "Chart.yaml")), "appVersion: \"?([^\"\n]+)").Groups[1].Value;
        var defaults = await RenderAsync();
        Assert.Equal($"ghcr.io/greenhouse-integration/greenhouse-receiver:{appVersion}", EnvValue(defaults, "Operator__ReceiverImage"));
        Assert.EndsWith($"greenhouse-operator:{appVersion}", Scalar(Container(defaults), "image"), StringComparison.Ordinal);

        var objects = await RenderAsync("--set", "receiver.image.repository=registry.example.com/ghr", "--set", "receiver.image.tag=1.2.3", "--set", "receiver.imagePullSecrets[0].name=registry-a");
        Assert.Equal("registry.example.com/ghr:1.2.3", EnvValue(objects, "Operator__ReceiverImage"));
        Assert.Equal("registry-a", EnvValue(objects, "Operator__ReceiverImagePullSecrets__0"));
    }

    [Fact]
    public async Task The_gc_heap_limit_is_a_share_of_the_memory_limit_set_in_hexadecimal()
    {
        var defaults = await RenderAsync();
        Assert.Equal("0x32", EnvValue(defaults, "DOTNET_GCHeapHardLimitPercent"));
        Assert.Equal("2", EnvValue(defaults, "MALLOC_ARENA_MAX"));

        var objects = await RenderAsync("--set", "runtime.gcHeapHardLimitPercent=60", "--set", "runtime.mallocArenaMax=4");
        Assert.Equal("0x3c", EnvValue(objects, "DOTNET_GCHeapHardLimitPercent"));
        Assert.Equal("4", EnvValue(objects, "MALLOC_ARENA_MAX"));
    }

    [Fact]
    public async Task Extra_env_and_security_contexts_come_from_values()
    {
        var objects = await RenderAsync("--set", "extraEnv[0].name=Operator__ResyncPeriod", "--set-string", "extraEnv[0].value=00:05:00", "--set", "securityContext.readOnlyRootFilesystem=false", "--set", "podSecurityContext.runAsUser=1001");

        Assert.Equal("00:05:00", EnvValue(objects, "Operator__ResyncPeriod"));
        Assert.Equal("false", Scalar(Container(objects), "securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("1001", Scalar(PodSpec(objects), "securityContext", "runAsUser"));
        var defaults = await RenderAsync();
        Assert.Equal("true", Scalar(Container(defaults), "securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("65532", Scalar(PodSpec(defaults), "securityContext", "runAsUser"));
    }

    [Fact]
    public async Task Monitoring_on_renders_monitors_rules_and_the_dashboard_and_admits_prometheus_to_the_receivers()
    {
        var objects = await RenderAsync(
            "--set", "monitoring.serviceMonitor.enabled=true", "--set", "monitoring.podMonitor.enabled=true",
            "--set", "monitoring.prometheusRule.enabled=true", "--set", "monitoring.dashboard.enabled=true",
            "--set", "monitoring.prometheusRule.labels.release=kps", "--set", "monitoring.dashboard.namespace=grafana",
            "--set", "monitoring.prometheus.namespaces={monitoring}", "--set-string", "monitoring.prometheus.podLabels.app\\.kubernetes\\.io/name=prometheus");

        var serviceMonitor = Assert.Single(objects, o => Kind(o) == "ServiceMonitor");
        // The operator's greenhouse_integration_ready{namespace,name} names the integration's namespace, not its own.
        Assert.Equal("true", Scalar((YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)serviceMonitor["spec"])["endpoints"]).Children[0], "honorLabels"));
        var podMonitor = Assert.Single(objects, o => Kind(o) == "PodMonitor");
        Assert.Equal("greenhouse-receiver", Scalar(podMonitor, "spec", "selector", "matchLabels", "app.kubernetes.io/name"));
        var rule = Assert.Single(objects, o => Kind(o) == "PrometheusRule");
        Assert.Equal("kps", Scalar(rule, "metadata", "labels", "release"));
        var alerts = Alerts(rule);
        Assert.True(alerts.Count >= 10, $"{alerts.Count} alerts");
        Assert.All(alerts, a => Assert.StartsWith("https://", Scalar(a, "annotations", "runbook_url"), StringComparison.Ordinal));
        var dashboard = Assert.Single(objects, o => Kind(o) == "ConfigMap");
        Assert.Equal("1", Scalar(dashboard, "metadata", "labels", "grafana_dashboard"));
        Assert.Equal("grafana", Scalar(dashboard, "metadata", "namespace"));
        using var json = System.Text.Json.JsonDocument.Parse(Scalar(dashboard, "data", "greenhouse-operator.json")!);
        Assert.True(json.RootElement.GetProperty("panels").GetArrayLength() > 10);
        Assert.Equal("monitoring", EnvValue(objects, "Operator__ScrapeNamespaces__0"));
        Assert.Equal("app.kubernetes.io/name=prometheus", EnvValue(objects, "Operator__ScrapePodLabels__0"));
        Assert.DoesNotContain(await RenderAsync(), o => Kind(o) is "ServiceMonitor" or "PodMonitor" or "PrometheusRule" or "ConfigMap");
    }

    [Fact]
    public async Task Runbook_links_follow_the_configured_base_url()
    {
        var objects = await RenderAsync("--set", "monitoring.prometheusRule.enabled=true", "--set", "monitoring.prometheusRule.runbookBaseUrl=https://wiki.example.com/greenhouse/runbooks/");

        var urls = Alerts(Assert.Single(objects, o => Kind(o) == "PrometheusRule")).Select(a => Scalar(a, "annotations", "runbook_url")).ToList();
        Assert.Contains("https://wiki.example.com/greenhouse/runbooks#greenhouseintegrationnotready", urls);
        Assert.All(urls, url => Assert.StartsWith("https://wiki.example.com/greenhouse/runbooks#", url, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData]
    [InlineData("--set", "watchNamespaces={team-a,team-b}")]
    [InlineData("--set", "crds.install=false")]
    [InlineData("--set", "replicaCount=3", "--set", "leaderElection.enabled=true")]
    [InlineData("--set", "monitoring.serviceMonitor.enabled=true", "--set", "monitoring.podMonitor.enabled=true", "--set", "monitoring.prometheusRule.enabled=true", "--set", "monitoring.dashboard.enabled=true")]
    [InlineData("--set", "leaderElection.enabled=false", "--set", "replicaCount=1")]
    public async Task Chart_lints_strictly_in_every_supported_mode(params string[] values)
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Helm, ["lint", "--strict", Chart, .. values]);

        Assert.True(result.ExitCode == 0, result.ToString());
        await RenderAsync(values);
    }

    [Fact]
    public async Task Install_notes_name_the_next_steps_in_a_watched_namespace_and_how_to_read_the_generated_secret()
    {
        var notes = await RenderNotesAsync("--set", "watchNamespaces={team-a,team-b}");

        Assert.Contains("manages integrations in: team-a, team-b", notes, StringComparison.Ordinal);
        Assert.Contains("kubectl -n team-a create secret generic acme-harvest", notes, StringComparison.Ordinal);
        Assert.Contains("kubectl -n team-a get secret acme-receiver-webhook -o jsonpath='{.data.secret_key}' | base64 -d", notes, StringComparison.Ordinal);
        Assert.Contains("docs/connect-greenhouse.md", notes, StringComparison.Ordinal);
        Assert.Contains("manages integrations in all namespaces", await RenderNotesAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HA_install_runs_three_replicas_behind_a_disruption_budget()
    {
        var objects = await RenderAsync("--set", "replicaCount=3");

        Assert.Equal("3", Scalar(Assert.Single(objects, o => Kind(o) == "Deployment"), "spec", "replicas"));
        Assert.Single(objects, o => Kind(o) == "PodDisruptionBudget");
        Assert.Equal("true", EnvValue(objects, "Operator__LeaderElection__Enabled"));
    }

    private static List<YamlMappingNode> Alerts(YamlMappingNode rule) =>
        ((YamlSequenceNode)((YamlMappingNode)rule["spec"])["groups"]).Children.Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g["rules"]).Children.Cast<YamlMappingNode>()).ToList();

    private static IEnumerable<string> Paths(YamlMappingNode node, string prefix)
    {
        foreach (var (key, value) in node.Children)
        {
            var path = prefix + ((YamlScalarNode)key).Value;
            yield return path;
            // Maps the user fills freely (labels, selectors, contexts) are described as open objects.
            if (value is YamlMappingNode { Children.Count: > 0 } child && !OpenObjects.Contains(path))
            {
                foreach (var nested in Paths(child, path + "."))
                {
                    yield return nested;
                }
            }
        }
    }

    private static readonly HashSet<string> OpenObjects = new(StringComparer.Ordinal)
    {
        "resources", "podSecurityContext", "securityContext", "affinity", "nodeSelector", "podAnnotations", "podLabels",
        "monitoring.dashboard.labels", "monitoring.prometheus.podLabels",
    };

    private static bool Described(System.Text.Json.JsonElement schema, string[] path)
    {
        var current = schema;
        foreach (var segment in path)
        {
            if (!current.TryGetProperty("properties", out var properties) || !properties.TryGetProperty(segment, out current))
            {
                return false;
            }
        }

        return current.TryGetProperty("type", out _);
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

    /// <summary>NOTES.txt as `helm install` prints it (`helm template` leaves it out): rendered into a ConfigMap of a copy of the chart.</summary>
    private static async Task<string> RenderNotesAsync(params string[] extra)
    {
        var copy = Path.Combine(Path.GetTempPath(), "chart-notes-" + Guid.NewGuid().ToString("N"));
        try
        {
            CopyDirectory(Chart, copy);
            var notes = await File.ReadAllTextAsync(Path.Combine(copy, "templates", "NOTES.txt"));
            await File.WriteAllTextAsync(Path.Combine(copy, "templates", "_notes_check.tpl"), "{{- define \"notes-check\" -}}\n" + notes + "\n{{- end -}}\n");
            await File.WriteAllTextAsync(Path.Combine(copy, "templates", "notes-check.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes-check}\ndata:\n  notes: {{ include \"notes-check\" . | quote }}\n");
            var result = await ExternalTool.RunAsync(ExternalTool.Helm, ["template", "ghi", copy, "--namespace", "greenhouse-system", "--show-only", "templates/notes-check.yaml", .. extra]);
            Assert.True(result.ExitCode == 0, result.ToString());
            var stream = new YamlStream();
            stream.Load(new StringReader(result.StandardOutput));
            return Scalar((YamlMappingNode)stream.Documents[0].RootNode, "data", "notes")!;
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
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

    private static YamlMappingNode PodSpec(List<YamlMappingNode> objects)
    {
        var deployment = Assert.Single(objects, o => Kind(o) == "Deployment");
        return (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"];
    }

    private static YamlMappingNode Container(List<YamlMappingNode> objects) =>
        (YamlMappingNode)Assert.Single(((YamlSequenceNode)PodSpec(objects)["containers"]).Children);

    private static IEnumerable<YamlMappingNode> EnvEntries(List<YamlMappingNode> objects) =>
        ((YamlSequenceNode)Container(objects)["env"]).Children.Cast<YamlMappingNode>();

    private static List<string> EnvNames(List<YamlMappingNode> objects) => EnvEntries(objects).Select(e => Scalar(e, "name")!).ToList();

    private static string? EnvValue(List<YamlMappingNode> objects, string name) =>
        EnvEntries(objects).Where(e => Scalar(e, "name") == name).Select(e => Scalar(e, "value")).SingleOrDefault();
}
