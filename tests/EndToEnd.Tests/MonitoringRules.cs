using System.Text.Json;
using System.Text.RegularExpressions;
using Greenhouse.Testing;
using YamlDotNet.RepresentationModel;

namespace EndToEnd.Tests;

/// <summary>The shipped alerts and dashboard, read once: alert rules, dashboard queries and the metric names they use.</summary>
internal static partial class MonitoringRules
{
    public static readonly string AlertsFile = RepositoryPaths.Combine("charts", "greenhouse-operator", "files", "alerts.yaml");
    public static readonly string AlertTestsFile = RepositoryPaths.Combine("monitoring", "alerts.test.yaml");
    public static readonly string DashboardFile = RepositoryPaths.Combine("charts", "greenhouse-operator", "files", "dashboard.json");

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    };

    // Series Prometheus itself makes for every target.
    private static readonly HashSet<string> Synthetic = new(StringComparer.Ordinal) { "up" };

    public sealed record Alert(string Name, string Expr, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations);

    public sealed record DashboardQuery(string Panel, string Expr);

    public static IReadOnlyList<Alert> Alerts()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(AlertsFile)));
        var groups = (YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode)["groups"];
        return groups.Children.Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g["rules"]).Children.Cast<YamlMappingNode>())
            .Select(r => new Alert(Scalar(r, "alert"), Scalar(r, "expr"), Map(r, "labels"), Map(r, "annotations")))
            .ToList();
    }

    public static IReadOnlyList<DashboardQuery> DashboardQueries()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var queries = new List<DashboardQuery>();
        foreach (var panel in json.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                queries.Add(new DashboardQuery(panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
            }
        }

        return queries;
    }

    /// <summary>A dashboard query as Grafana sends it with "All" selected and a given rate interval.</summary>
    public static string Resolve(string expr, string rateInterval) => expr
        .Replace("$__rate_interval", rateInterval, StringComparison.Ordinal)
        .Replace("$namespace", ".*", StringComparison.Ordinal)
        .Replace("$integration", ".*", StringComparison.Ordinal);

    /// <summary>The metric names a PromQL expression reads (functions, keywords, labels and durations left out).</summary>
    public static IEnumerable<string> MetricNames(string expr)
    {
        var stripped = LabelMatchers().Replace(expr, " ");
        stripped = Grouping().Replace(stripped, " ");
        stripped = RangeOrStrings().Replace(stripped, " ");
        return Identifier().Matches(stripped)
            .Where(m => !m.Groups[2].Success) // a function call
            .Select(m => m.Groups[1].Value)
            .Where(name => !Keywords.Contains(name) && !Synthetic.Contains(name))
            .Distinct(StringComparer.Ordinal);
    }

    /// <summary>Every metric the code registers (Create{Counter,Gauge,Histogram}("name", ...)), with a histogram's series names.</summary>
    public static HashSet<string> ExportedMetricNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Combine("operator"), "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal)))
        {
            foreach (Match match in Registration().Matches(File.ReadAllText(file)))
            {
                var name = match.Groups[2].Value;
                names.Add(name);
                if (match.Groups[1].Value == "Histogram")
                {
                    names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
                }
            }
        }

        return names;
    }

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value ?? "" : "";

    private static Dictionary<string, string> Map(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value)
            ? ((YamlMappingNode)value).Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value ?? "", StringComparer.Ordinal)
            : [];

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\[[^\]]*\]|""[^""]*""")]
    private static partial Regex RangeOrStrings();

    [GeneratedRegex(@"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"Create(Counter|Gauge|Histogram)\(\s*""([a-z_:][a-z0-9_:]*)""")]
    private static partial Regex Registration();
}
