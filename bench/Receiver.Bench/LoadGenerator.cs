using System.Diagnostics;
using System.Net.Http.Headers;

namespace Receiver.Bench;

/// <summary>The fallback generator when wrk is not installed: HttpClient in this process (it shares the CPU with the servers).</summary>
/// <remarks>Each request takes the next of a set of pre-signed bodies (different candidates), with a unique event id.</remarks>
internal sealed class LoadGenerator(Uri target, IReadOnlyList<(byte[] Body, string Signature)> bodies, int connections) : ILoadGenerator
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };
    private long _nextId;

    public void Dispose() => _client.Dispose();

    public async Task<LoadResult> MaxRateAsync(string name, TimeSpan duration)
    {
        var latencies = new List<double>[connections];
        var failures = 0;
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async worker =>
        {
            var mine = latencies[worker] = new List<double>(4096);
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (!await SendAsync())
                {
                    Interlocked.Increment(ref failures);
                }
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        return LoadResult.FromSamples(name, failures, seconds, all);
    }

    /// <summary>Requests start on a fixed schedule; latency counts from the scheduled start (no coordinated omission).</summary>
    public async Task<LoadResult> FixedRateAsync(string name, double rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        var failures = 0;
        var origin = Stopwatch.GetTimestamp();
        var tasks = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var scheduled = origin + (long)(i / rate * Stopwatch.Frequency);
            var wait = scheduled - Stopwatch.GetTimestamp();
            if (wait > Stopwatch.Frequency / 1000)
            {
                await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            }
            var index = i;
            tasks.Add(Task.Run(async () =>
            {
                if (!await SendAsync())
                {
                    Interlocked.Increment(ref failures);
                }
                latencies[index] = (Stopwatch.GetTimestamp() - scheduled) * 1000.0 / Stopwatch.Frequency;
            }));
        }
        await Task.WhenAll(tasks);
        return LoadResult.FromSamples(name, failures, Stopwatch.GetElapsedTime(origin).TotalSeconds, latencies);
    }

    private async Task<bool> SendAsync()
    {
        var id = Interlocked.Increment(ref _nextId);
        var (body, signature) = bodies[(int)(id % bodies.Count)];
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Signature", signature);
        request.Headers.TryAddWithoutValidation("Greenhouse-Event-ID", Guid.NewGuid().ToString());
        try
        {
            using var response = await _client.SendAsync(request);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
