using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Greenhouse.Receiver.Webhooks;

/// <summary>
/// Caps the concurrent connections of the public (webhook) listener only, so a flood of
/// anonymous connections cannot take file descriptors and memory from the internal API
/// listeners. A connection over the cap is answered 503 with <c>Retry-After</c> (Greenhouse
/// retries) and closed before Kestrel parses anything from it.
/// </summary>
public sealed class PublicConnectionLimit
{
    private static readonly byte[] Refusal = Encoding.ASCII.GetBytes(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: application/json\r\nContent-Length: 57\r\nConnection: close\r\n\r\n"
        + """{"result":"unavailable","reason":"too many connections"}""" + "\n");

    private readonly int _limit;
    private int _open;

    public PublicConnectionLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
    }

    /// <summary>Connections of the public listener open now.</summary>
    public int Open => Volatile.Read(ref _open);

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        if (Interlocked.Increment(ref _open) > _limit)
        {
            try
            {
                await connection.Transport.Output.WriteAsync(Refusal).ConfigureAwait(false);
                await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _open);
            }
            return;
        }
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    };
}
