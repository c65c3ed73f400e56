using System.Text;
using ControllerRuntime;
using Greenhouse.Operator.Reconciliation;
using Prometheus;

namespace Greenhouse.Operator.Tests.Reconciliation;

public sealed class OperatorMetricsTests
{
    [Fact]
    public async Task Each_integration_has_a_readiness_series_that_goes_with_it()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new OperatorMetrics(Metrics.WithCustomRegistry(registry));

        metrics.SetReady(new ObjectKey("recruiting", "acme"), Conditions.True);
        metrics.SetReady(new ObjectKey("recruiting", "beta"), Conditions.False);
        var text = await ExportAsync(registry);
        Assert.Contains("greenhouse_integration_ready{namespace=\"recruiting\",name=\"acme\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_integration_ready{namespace=\"recruiting\",name=\"beta\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_integrations{ready=\"False\"} 1", text, StringComparison.Ordinal);

        metrics.Forget(new ObjectKey("recruiting", "beta"));
        text = await ExportAsync(registry);
        Assert.DoesNotContain("name=\"beta\"", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_integrations{ready=\"False\"} 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_that_stops_leading_drops_every_integration_series()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new OperatorMetrics(Metrics.WithCustomRegistry(registry));
        metrics.SetReady(new ObjectKey("recruiting", "acme"), Conditions.True);

        metrics.Clear();

        var text = await ExportAsync(registry);
        Assert.DoesNotContain("greenhouse_integration_ready{", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_integrations{ready=\"True\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_operator_build_info{version=\"", text, StringComparison.Ordinal);
    }

    private static async Task<string> ExportAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
