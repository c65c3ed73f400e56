using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record SyncSpec
{
    [Pattern("^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")]
    [Default("15m")]
    [Description("Interval of incremental Harvest sweeps (candidates updated since the last sweep), Go duration.")]
    public string? ResyncInterval { get; init; }

    [Pattern("^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")]
    [Default("24h")]
    [Description("Interval of full Harvest sweeps, which also find deletions webhooks missed, Go duration.")]
    public string? FullResyncInterval { get; init; }

    [Pattern("^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")]
    [Default("1h")]
    [Description("Sync is reported as not Synced when no successful sweep or event happened for this long, Go duration.")]
    public string? StaleAfter { get; init; }
}
