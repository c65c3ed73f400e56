namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// One application (or prospect application) of a mirrored candidate, as far as re-engagement
/// needs it: where it stands, why and when it was rejected, for which jobs, from which source.
/// </summary>
public sealed record ApplicationRecord
{
    public required long Id { get; init; }

    /// <summary>Greenhouse's status: <c>active</c>, <c>rejected</c>, <c>hired</c> (or another value Greenhouse adds).</summary>
    public string? Status { get; init; }

    public bool Prospect { get; init; }
    public string? RejectionReason { get; init; }
    public DateTimeOffset? RejectedAt { get; init; }
    public IReadOnlyList<long> JobIds { get; init; } = [];
    public string? Source { get; init; }
    public DateTimeOffset? AppliedAt { get; init; }
    public DateTimeOffset? LastActivityAt { get; init; }
}
