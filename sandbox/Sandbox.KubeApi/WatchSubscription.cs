using System.Threading.Channels;

namespace Sandbox.KubeApi;

/// <summary>An open watch on one storage bucket: events arrive in resourceVersion order.</summary>
internal sealed class WatchSubscription : IDisposable
{
    private readonly Action<WatchSubscription> _unsubscribe;
    private readonly CancellationTokenSource _closed = new();

    public WatchSubscription(string storageKey, Action<WatchSubscription> unsubscribe)
    {
        StorageKey = storageKey;
        _unsubscribe = unsubscribe;
    }

    public string StorageKey { get; }

    public Channel<WatchEvent> Events { get; } = Channel.CreateUnbounded<WatchEvent>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Cancelled when the server decides to end this watch (fault injection, CRD removal, shutdown).</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>When set, the connection is cut instead of ending the chunked response cleanly.</summary>
    public bool AbortConnection { get; private set; }

    public void Close(bool abortConnection = false)
    {
        AbortConnection |= abortConnection;
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished: nothing left to close.
        }
    }

    public void Dispose()
    {
        _unsubscribe(this);
        _closed.Dispose();
    }
}
