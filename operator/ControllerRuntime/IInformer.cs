namespace ControllerRuntime;

/// <summary>What a <see cref="ControllerManager"/> needs from an informer of any kind.</summary>
public interface IInformer
{
    string Resource { get; }

    /// <summary>True once the first list has been loaded into the cache.</summary>
    bool HasSynced { get; }

    /// <summary>How many full lists have been loaded so far.</summary>
    long ListCount { get; }

    Task WaitForSyncAsync(CancellationToken cancellationToken);

    Task RunAsync(CancellationToken cancellationToken);
}
