namespace ControllerRuntime;

/// <summary>Per-key exponential backoff of a <see cref="WorkQueue{TKey}"/>: BaseDelay * 2^(failures-1), at most MaxDelay.</summary>
public sealed record WorkQueueOptions
{
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(5);
}
