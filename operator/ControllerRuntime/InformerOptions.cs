namespace ControllerRuntime;

public sealed record InformerOptions
{
    /// <summary>How often every cached object is delivered again as a <see cref="InformerEventType.Resync"/> event; zero disables it.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Server-side timeout of one watch request; the informer then re-watches from its last resourceVersion.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>First delay after a failed list or watch; doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Drop <c>metadata.managedFields</c> from every object before it is cached (nothing in a controller reads them).</summary>
    public bool StripManagedFields { get; init; } = true;
}
