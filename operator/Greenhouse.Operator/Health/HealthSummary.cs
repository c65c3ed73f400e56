using Greenhouse.Operator.Api;

namespace Greenhouse.Operator.Health;

/// <summary>
/// Sync health of one integration aggregated over its ready pods, coarsened (times to the minute,
/// lag to whole seconds) so that two summaries differ only when something a person would care about changed.
/// </summary>
public sealed record HealthSummary
{
    /// <summary>When the round that produced this summary ran (not part of <see cref="SameAs"/>).</summary>
    public required DateTime PolledAt { get; init; }

    /// <summary>
    /// The latest successful sweep of any pod, to the second (<see cref="SyncStatus.LastResyncAt"/> is coarsened to the
    /// minute for status); what Stale and SweepFailing are measured from. Not part of <see cref="SameAs"/>.
    /// </summary>
    public DateTime? LastSweepSucceededAt { get; init; }

    /// <summary>Ready pods asked.</summary>
    public int Pods { get; init; }

    /// <summary>"pod: error" for every ready pod that did not answer in time.</summary>
    public IReadOnlyList<string> Unreachable { get; init; } = [];

    /// <summary>Aggregated sync figures (null when no pod answered).</summary>
    public SyncStatus? Sync { get; init; }

    /// <summary>Aggregated Harvest state (null when no answering pod runs Harvest).</summary>
    public HarvestStatus? Harvest { get; init; }

    /// <summary>Some pod's Harvest client had its credentials refused.</summary>
    public bool HarvestUnauthorized { get; init; }

    /// <summary>Some pod's Harvest token was issued with the previous client secret (the current one was refused).</summary>
    public bool UsingPreviousClientSecret { get; init; }

    /// <summary>Some pod's Harvest client was answered 429 Too Many Requests since it started (it waits those out, so no error shows).</summary>
    public bool Throttled { get; init; }

    /// <summary>The last sweep error any pod reports (empty when the last sweeps succeeded).</summary>
    public string? LastSweepError { get; init; }

    /// <summary>Events given up on, summed over pods.</summary>
    public long DeadLetters { get; init; }

    /// <summary>Fingerprints of the webhook secret each answering pod has loaded.</summary>
    public IReadOnlyList<string> LoadedSecrets { get; init; } = [];

    /// <summary>Fingerprints of loaded secrets with which a pod verified a delivery since loading them (adoption).</summary>
    public IReadOnlyList<string> VerifiedSecrets { get; init; } = [];

    /// <summary>True when both summaries say the same thing (ignoring <see cref="PolledAt"/> and <see cref="LastSweepSucceededAt"/>).</summary>
    public bool SameAs(HealthSummary? other) =>
        other is not null
        && Pods == other.Pods
        && Unreachable.SequenceEqual(other.Unreachable)
        && Equals(Sync, other.Sync)
        && HarvestEquals(Harvest, other.Harvest)
        && HarvestUnauthorized == other.HarvestUnauthorized
        && UsingPreviousClientSecret == other.UsingPreviousClientSecret
        && Throttled == other.Throttled
        && LastSweepError == other.LastSweepError
        && DeadLetters == other.DeadLetters
        && LoadedSecrets.SequenceEqual(other.LoadedSecrets)
        && VerifiedSecrets.SequenceEqual(other.VerifiedSecrets);

    private static bool HarvestEquals(HarvestStatus? a, HarvestStatus? b) =>
        a is null || b is null
            ? a is null && b is null
            : a.Authenticated == b.Authenticated && a.TokenExpiresAt == b.TokenExpiresAt && Equals(a.RateLimit, b.RateLimit)
              && (a.MissingScopes ?? []).SequenceEqual(b.MissingScopes ?? []) && a.LastError == b.LastError;
}
