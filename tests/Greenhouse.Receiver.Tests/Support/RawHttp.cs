using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>HTTP/1.1 over a bare socket: for clients HttpClient refuses to be (slow senders, odd header bytes).</summary>
internal sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _client;

    private RawHttp(TcpClient client)
    {
        _client = client;
        Stream = client.GetStream();
    }

    public NetworkStream Stream { get; }

    public static async Task<RawHttp> ConnectAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        client.NoDelay = true;
        return new RawHttp(client);
    }

    public Task SendAsync(string text) => Stream.WriteAsync(Encoding.Latin1.GetBytes(text)).AsTask();

    /// <summary>When the first byte of the server's answer arrived (since the stopwatch given to <see cref="ReadUntilClosedAsync"/>).</summary>
    public TimeSpan? FirstByteAfter { get; private set; }

    /// <summary>Everything the server sends until it closes the connection or <paramref name="timeout"/> passes.</summary>
    public async Task<string> ReadUntilClosedAsync(TimeSpan timeout, Stopwatch? clock = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        var text = new StringBuilder();
        try
        {
            int n;
            while ((n = await Stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                FirstByteAfter ??= clock?.Elapsed;
                text.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
        }
        return text.ToString();
    }

    /// <summary>
    /// Sends a chunked body of <paramref name="totalBytes"/> in chunks of <paramref name="chunkBytes"/>
    /// every <paramref name="interval"/>, until it is all sent or the server answers or closes;
    /// returns the server's answer (status line first), when it came and when the connection was closed.
    /// </summary>
    public async Task<(string Answer, TimeSpan After, TimeSpan ClosedAfter)> SendSlowlyAsync(string headers, long totalBytes, int chunkBytes, TimeSpan interval, TimeSpan giveUp)
    {
        var clock = Stopwatch.StartNew();
        await SendAsync(headers);
        var answer = ReadUntilClosedAsync(giveUp, clock);
        var chunk = Encoding.ASCII.GetBytes($"{chunkBytes:x}\r\n" + new string('a', chunkBytes) + "\r\n");
        try
        {
            for (long sent = 0; sent < totalBytes && FirstByteAfter is null && !answer.IsCompleted; sent += chunkBytes)
            {
                await Stream.WriteAsync(chunk);
                await Task.WhenAny(answer, Task.Delay(interval));
            }
        }
        catch (IOException)
        {
            // The server closed the connection while we were sending.
        }
        var text = await answer;
        return (text, FirstByteAfter ?? clock.Elapsed, clock.Elapsed);
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
