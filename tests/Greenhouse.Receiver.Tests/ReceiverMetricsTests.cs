using System.Text;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Sync;
using Greenhouse.Receiver.Webhooks;

namespace Greenhouse.Receiver.Tests;

public sealed class ReceiverMetricsTests
{
    [Fact]
    public async Task Harvest_gauges_whose_value_is_not_known_yet_are_absent_rather_than_zero()
    {
        var metrics = new ReceiverMetrics();
        _ = new HarvestMetrics(metrics, new HarvestStatus(TimeProvider.System), new SyncStatus());

        var text = await ExportAsync(metrics);

        Assert.DoesNotContain("\ngreenhouse_harvest_authenticated ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\ngreenhouse_harvest_rate_limit_remaining ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\ngreenhouse_harvest_rate_limit_limit ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\ngreenhouse_harvest_token_expiry_timestamp_seconds ", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_harvest_throttled_responses_total 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_verified_delivery_counts_under_the_secret_slot_that_verified_it()
    {
        var metrics = new ReceiverMetrics();
        metrics.RecordVerified(SecretSlotMatch.Current, DateTimeOffset.UnixEpoch);
        metrics.RecordVerified(SecretSlotMatch.Previous, DateTimeOffset.UnixEpoch);
        metrics.RecordVerified(SecretSlotMatch.Previous, DateTimeOffset.UnixEpoch);

        var text = await ExportAsync(metrics);

        Assert.Contains("greenhouse_webhook_signatures_verified_total{slot=\"current\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_webhook_signatures_verified_total{slot=\"previous\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_receiver_build_info{version=\"", text, StringComparison.Ordinal);
        Assert.Contains("greenhouse_inbox_oldest_pending_age_seconds ", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("get candidates", "get_candidates")]
    [InlineData("add note", "add_note")]
    [InlineData("list", "list")]
    public void Harvest_operations_become_snake_case_label_values(string operation, string label) =>
        Assert.Equal(label, HarvestMetrics.OperationLabel(operation));

    private static async Task<string> ExportAsync(ReceiverMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
