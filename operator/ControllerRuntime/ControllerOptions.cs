namespace ControllerRuntime;

public sealed record ControllerOptions
{
    /// <summary>Keys reconciled at the same time (never the same key twice).</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>How long reconciles in flight may finish after shutdown was requested.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(10);

    public WorkQueueOptions Queue { get; init; } = new();
}
