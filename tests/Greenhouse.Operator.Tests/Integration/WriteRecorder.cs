using System.Collections.Concurrent;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>Records the write requests (method and path) one client sends, to tell two operators apart.</summary>
internal sealed class WriteRecorder : DelegatingHandler
{
    public ConcurrentQueue<string> Writes { get; } = new();

    /// <summary>Writes other than the leader-election Lease.</summary>
    public IReadOnlyList<string> ObjectWrites => [.. Writes.Where(w => !w.Contains("/leases", StringComparison.Ordinal))];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Method != HttpMethod.Get)
        {
            Writes.Enqueue($"{request.Method} {request.RequestUri?.AbsolutePath}");
        }

        return base.SendAsync(request, cancellationToken);
    }
}
