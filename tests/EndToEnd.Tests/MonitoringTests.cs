using System.Text.RegularExpressions;
using Greenhouse.Testing;

namespace EndToEnd.Tests;

/// <summary>The alerts and the dashboard a platform team installs: valid, unit-tested, documented, and built on metrics the code exports.</summary>
public sealed partial class MonitoringTests
{
    [Fact]
    public async Task Alert_rules_pass_promtool_check()
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Promtool, ["check", "rules", MonitoringRules.AlertsFile]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"SUCCESS: {MonitoringRules.Alerts().Count} rules found", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alert_unit_tests_pass_promtool_test_rules()
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Promtool, ["test", "rules", MonitoringRules.AlertTestsFile]);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public void Every_alert_has_a_unit_test_that_expects_it_to_fire()
    {
        var tests = File.ReadAllText(MonitoringRules.AlertTestsFile);

        foreach (var alert in MonitoringRules.Alerts())
        {
            Assert.Matches(new Regex($@"alertname: {alert.Name}\n\s+exp_alerts:\n\s+- exp_labels:"), tests);
        }
    }

    [Fact]
    public void Every_alert_has_a_severity_summary_description_and_a_runbook_section()
    {
        var anchors = Anchors(File.ReadAllText(RepositoryPaths.Combine("docs", "runbooks.md")));

        foreach (var alert in MonitoringRules.Alerts())
        {
            Assert.Contains(alert.Labels.GetValueOrDefault("severity"), new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("summary")), alert.Name + " has no summary");
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("description")), alert.Name + " has no description");
            var url = alert.Annotations.GetValueOrDefault("runbook_url") ?? "";
            var anchor = url[(url.IndexOf('#', StringComparison.Ordinal) + 1)..];
            Assert.EndsWith("/docs/runbooks.md#" + anchor, url, StringComparison.Ordinal);
            Assert.True(anchors.Contains(anchor), $"{alert.Name}: docs/runbooks.md has no section with anchor #{anchor}");
        }
    }

    [Fact]
    public void Every_metric_in_alerts_and_dashboard_is_exported_by_the_code()
    {
        var exported = MonitoringRules.ExportedMetricNames();
        var used = MonitoringRules.Alerts().Select(a => (Where: "alert " + a.Name, a.Expr))
            .Concat(MonitoringRules.DashboardQueries().Select(q => (Where: "panel " + q.Panel, q.Expr)))
            .SelectMany(x => MonitoringRules.MetricNames(x.Expr).Select(name => (x.Where, Name: name)))
            .ToList();

        Assert.True(exported.Count > 30, $"found only {exported.Count} registered metrics; the scan is broken");
        Assert.True(used.Count > 30, $"found only {used.Count} metric uses; the scan is broken");
        var unknown = used.Where(u => !exported.Contains(u.Name)).Select(u => $"{u.Where}: {u.Name}").ToList();
        Assert.True(unknown.Count == 0, "not exported by the code: " + string.Join("; ", unknown));
    }

    [Fact]
    public void Every_metric_the_code_exports_is_documented()
    {
        var docs = File.ReadAllText(RepositoryPaths.Combine("docs", "operator.md")) + File.ReadAllText(RepositoryPaths.Combine("docs", "receiver.md"));
        var undocumented = MonitoringRules.ExportedMetricNames()
            .Where(n => !n.EndsWith("_bucket", StringComparison.Ordinal) && !n.EndsWith("_sum", StringComparison.Ordinal) && !n.EndsWith("_count", StringComparison.Ordinal))
            .Where(n => !docs.Contains($"`{n}`", StringComparison.Ordinal))
            .ToList();

        Assert.True(undocumented.Count == 0, "metrics missing from docs/operator.md and docs/receiver.md: " + string.Join(", ", undocumented));
    }

    [Theory]
    [InlineData("sum by (namespace, name) (rate(greenhouse_webhooks_received_total{job=\"x\", result=\"a b\"}[10m])) > 0", "greenhouse_webhooks_received_total")]
    [InlineData("time() - max by (namespace) (greenhouse_sync_last_sweep_timestamp_seconds{kind=\"any\"}) > 7200", "greenhouse_sync_last_sweep_timestamp_seconds")]
    [InlineData("(max(leader_election_master_status) or vector(0)) < 1", "leader_election_master_status")]
    [InlineData("min by (name) (a_remaining{x=\"1\"} / a_limit)", "a_remaining,a_limit")]
    public void Metric_names_are_read_from_expressions_without_functions_labels_or_keywords(string expr, string expected) =>
        Assert.Equal(expected.Split(','), MonitoringRules.MetricNames(expr));

    private static HashSet<string> Anchors(string markdown) =>
        Heading().Matches(markdown)
            .Select(m => Regex.Replace(m.Groups[1].Value.Trim().ToLowerInvariant(), @"[^a-z0-9 _-]", "").Replace(' ', '-'))
            .ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^#{1,6} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
