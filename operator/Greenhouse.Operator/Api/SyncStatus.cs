using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record SyncStatus
{
    [Description("When a webhook was last accepted.")]
    public DateTime? LastEventAt { get; init; }

    [Description("When the last incremental sweep finished.")]
    public DateTime? LastResyncAt { get; init; }

    [Description("When the last full sweep finished.")]
    public DateTime? LastFullResyncAt { get; init; }

    [Description("Candidates in the mirror.")]
    public long? Candidates { get; init; }

    [Description("Seconds the mirror is behind Greenhouse.")]
    public long? LagSeconds { get; init; }

    [Description("Accepted webhooks not processed yet.")]
    public long? PendingEvents { get; init; }

    [Description("Webhooks accepted.")]
    public long? EventsAccepted { get; init; }

    [Description("Webhooks acknowledged as duplicates.")]
    public long? EventsDuplicate { get; init; }

    [Description("Webhooks rejected (signature, basic auth, malformed, too large).")]
    public long? EventsRejected { get; init; }

    [Description("Events that failed processing and went to the dead-letter table.")]
    public long? EventsFailed { get; init; }

    [Description("Records a sweep had to fix because a webhook was missed.")]
    public long? DriftRepaired { get; init; }
}
