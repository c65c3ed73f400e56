namespace ControllerRuntime;

/// <summary>A change the informer applied to its cache. For deletions <see cref="Current"/> is the last known state.</summary>
public sealed record InformerEvent<T>(InformerEventType Type, T Current, T? Previous);
