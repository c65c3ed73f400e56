namespace Sandbox.KubeApi;

/// <summary>How a DELETE should proceed (from the body's DeleteOptions or the query).</summary>
internal sealed record DeleteOptions
{
    /// <summary>Orphan, Background, Foreground, or null when the client said nothing.</summary>
    public string? PropagationPolicy { get; init; }

    public long? GracePeriodSeconds { get; init; }

    public string? PreconditionUid { get; init; }

    public string? PreconditionResourceVersion { get; init; }

    public bool DryRun { get; init; }

    public bool Internal { get; init; }
}
