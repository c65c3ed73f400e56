using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Receiver.Bench;

/// <summary>
/// Where the tail of a fixed-rate run comes from, second by second: the server-side time of every
/// request (a middleware in the same process, so it misses only the time before Kestrel parsed the
/// headers), and a sampler thread that every 5 ms notes the GC's pause time and collections, the
/// thread pool's queue, the WAL's size and restarts (its header's checkpoint sequence number),
/// how late its own sleep woke up (the process or the machine not running it), and the machine's
/// CPU time from <c>/proc/stat</c>: idle, and stolen (the hypervisor ran another guest on our cores).
/// </summary>
internal sealed class TailTimeline : IDisposable
{
    private const int Capacity = 1 << 21;
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(5);
    private readonly long[] _ends = new long[Capacity];
    private readonly float[] _latencies = new float[Capacity];
    private readonly List<Sample> _samples = new(8192);
    private readonly string? _walPath;
    private int _count;
    private volatile bool _recording;
    private long _origin;
    private Thread? _sampler;
    // The inbox's group commits and durability cycles (the receiver only): when, how long, which.
    private readonly System.Collections.Concurrent.ConcurrentQueue<(long At, double Ms, bool Sync)> _inbox = new();

    /// <param name="walPath">The receiver's WAL file, or null for bare Kestrel.</param>
    public TailTimeline(string? walPath) => _walPath = walPath;

    /// <summary>Times every request that starts while recording (server side: from the middleware to the answer).</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!_recording)
        {
            await next(context);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        await next(context);
        var ended = Stopwatch.GetTimestamp();
        var index = Interlocked.Increment(ref _count) - 1;
        if (index < Capacity)
        {
            _ends[index] = ended;
            _latencies[index] = (float)((ended - started) * 1000.0 / Stopwatch.Frequency);
        }
    }

    /// <summary>For <c>WebhookInbox.Synced</c>: one fdatasync cycle of the WAL and the body log.</summary>
    public void OnSynced(TimeSpan duration, int deliveries)
    {
        if (_recording)
        {
            _inbox.Enqueue((Stopwatch.GetTimestamp(), duration.TotalMilliseconds, true));
        }
    }

    /// <summary>For <c>WebhookInbox.GroupCommitted</c>: one group commit on the writer.</summary>
    public void OnCommitted(TimeSpan duration, int deliveries)
    {
        if (_recording)
        {
            _inbox.Enqueue((Stopwatch.GetTimestamp(), duration.TotalMilliseconds, false));
        }
    }

    public void Start()
    {
        _inbox.Clear();
        _count = 0;
        _samples.Clear();
        _origin = Stopwatch.GetTimestamp();
        _recording = true;
        _sampler = new Thread(SampleLoop) { IsBackground = true, Name = "bench-tail-sampler" };
        _sampler.Start();
    }

    public void Stop()
    {
        _recording = false;
        _sampler?.Join();
        _sampler = null;
    }

    /// <summary>One line per second of the run, and the worst single pause the sampler saw.</summary>
    public IReadOnlyList<string> Report(int topSeconds)
    {
        var seconds = (int)Math.Ceiling(_samples.Count == 0 ? 0 : (_samples[^1].At - _origin) / (double)Stopwatch.Frequency);
        var perSecond = Enumerable.Range(0, Math.Max(seconds, 1)).Select(_ => new List<float>()).ToArray();
        var count = Math.Min(_count, Capacity);
        for (var i = 0; i < count; i++)
        {
            var second = (int)((_ends[i] - _origin) / Stopwatch.Frequency);
            perSecond[Math.Clamp(second, 0, perSecond.Length - 1)].Add(_latencies[i]);
        }
        var rows = new List<(int Second, double Max, string Line)>();
        foreach (var (s, inSecond, previous) in Seconds())
        {
            if (s >= perSecond.Length)
            {
                continue;
            }
            var latencies = perSecond[s].Select(l => (double)l).ToArray();
            var max = latencies.Length == 0 ? 0 : latencies.Max();
            var p99 = latencies.Length == 0 ? 0 : LoadResult.Percentile(latencies, 99);
            var last = inSecond[^1];
            var pauses = (last.GcPause - previous.GcPause).TotalMilliseconds;
            var maxPause = inSecond.Select((x, i) => (x.GcPause - (i == 0 ? previous : inSecond[i - 1]).GcPause).TotalMilliseconds).Max();
            var gen0 = last.Gen0 - previous.Gen0;
            var gen1 = last.Gen1 - previous.Gen1;
            var gen2 = last.Gen2 - previous.Gen2;
            var restarts = last.WalSequence - previous.WalSequence;
            var (idle, stolen) = CpuTicks.Between(previous.Cpu, last.Cpu);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"  s{s,-3} {latencies.Length,6} req  server p99 {p99,6:F1} ms  max {max,6:F1} ms | GC {gen0}/{gen1}/{gen2} (gen0/1/2) paused {pauses,5:F1} ms, longest {maxPause,5:F1} ms | pool queue max {inSecond.Max(x => x.PoolQueue),4}, threads {last.PoolThreads,2} | sampler late max {inSecond.Max(x => x.LateMs),5:F1} ms | CPU idle {idle,3:F0}%, stolen {stolen,3:F0}%");
            if (_walPath is not null)
            {
                line += string.Create(CultureInfo.InvariantCulture, $" | wrote {(last.Written - previous.Written) / 1048576.0,5:F1} MiB | WAL max {inSecond.Max(x => x.WalBytes) / 1048576.0,5:F1} MiB, restarts {restarts}");
                var cycles = _inbox.Where(c => (int)((c.At - _origin) / Stopwatch.Frequency) == s).ToList();
                var syncs = cycles.Where(c => c.Sync).Select(c => c.Ms).DefaultIfEmpty(0).ToList();
                var commits = cycles.Where(c => !c.Sync).Select(c => c.Ms).DefaultIfEmpty(0).ToList();
                line += string.Create(CultureInfo.InvariantCulture, $" | fsync {syncs.Count(m => m > 0),4}x max {syncs.Max(),5:F1} ms | commit {commits.Count(m => m > 0),4}x max {commits.Max(),5:F1} ms");
            }
            rows.Add((s, max, line));
        }
        var worst = rows.OrderByDescending(r => r.Max).Take(topSeconds).Select(r => r.Second).ToHashSet();
        return rows.Select(r => (worst.Contains(r.Second) ? "*" : " ") + r.Line).ToList();
    }

    public void Dispose() => Stop();

    private void SampleLoop()
    {
        using var wal = _walPath is null ? null : new WalProbe(_walPath);
        var late = 0.0;
        while (_recording)
        {
            var now = Stopwatch.GetTimestamp();
            var (walBytes, walSequence) = wal?.Read() ?? (0, 0);
            _samples.Add(new Sample(now, GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
                ThreadPool.PendingWorkItemCount, ThreadPool.ThreadCount, late, walBytes, walSequence, WrittenBytes(), CpuTicks.Read()));
            Thread.Sleep(SampleEvery);
            late = Math.Max(0, Stopwatch.GetElapsedTime(now).TotalMilliseconds - SampleEvery.TotalMilliseconds);
        }
    }

    private readonly record struct Sample(long At, TimeSpan GcPause, int Gen0, int Gen1, int Gen2, long PoolQueue, int PoolThreads, double LateMs, long WalBytes, long WalSequence, long Written, CpuTicks Cpu);

    /// <summary>The whole machine's CPU time so far (Linux, <c>/proc/stat</c>, in clock ticks): in all, idle (iowait included), and stolen by the hypervisor.</summary>
    internal readonly record struct CpuTicks(long Total, long Idle, long Steal)
    {
        public static CpuTicks Read()
        {
            try
            {
                using var handle = File.OpenHandle("/proc/stat");
                Span<byte> buffer = stackalloc byte[512];
                var read = RandomAccess.Read(handle, buffer, 0);
                var text = System.Text.Encoding.ASCII.GetString(buffer[..read]);
                // "cpu  user nice system idle iowait irq softirq steal guest guest_nice": the first line is every core's sum.
                var fields = text[..text.IndexOf('\n', StringComparison.Ordinal)].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var values = fields.Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
                return new CpuTicks(values.Sum(), values[3] + values[4], values[7]);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException or IndexOutOfRangeException)
            {
                return default;
            }
        }

        /// <summary>Idle and stolen shares of the machine's CPU time between two readings (NaN without /proc/stat).</summary>
        public static (double IdlePercent, double StealPercent) Between(CpuTicks from, CpuTicks to)
        {
            var total = to.Total - from.Total;
            return total <= 0 ? (double.NaN, double.NaN) : (100.0 * (to.Idle - from.Idle) / total, 100.0 * (to.Steal - from.Steal) / total);
        }
    }

    /// <summary>The samples of each second of the recording, with the sample before the second's first (the second's own first for second 0): a second's figures run from that one to its last.</summary>
    private IEnumerable<(int Second, List<Sample> InSecond, Sample Previous)> Seconds()
    {
        var index = 0;
        foreach (var group in _samples.GroupBy(x => (int)((x.At - _origin) / Stopwatch.Frequency)))
        {
            var inSecond = group.ToList();
            yield return (group.Key, inSecond, index > 0 ? _samples[index - 1] : inSecond[0]);
            index += inSecond.Count;
        }
    }

    /// <summary>The machine's idle and stolen CPU over the whole recording (NaN with fewer than two samples).</summary>
    private (double IdlePercent, double StealPercent) Whole() =>
        _samples.Count < 2 ? (double.NaN, double.NaN) : CpuTicks.Between(_samples[0].Cpu, _samples[^1].Cpu);

    /// <summary>The machine's idle and stolen CPU over the whole recording, as a phrase.</summary>
    public string CpuShares()
    {
        var (idle, stolen) = Whole();
        return string.Create(CultureInfo.InvariantCulture, $"the machine's CPU idle {idle:F0}%, stolen by the host {stolen:F1}%");
    }

    /// <summary>The share of the machine's CPU time the hypervisor stole over the whole recording, and in its worst second (the seconds of <see cref="Report"/>).</summary>
    public (double Percent, double WorstSecond) Stolen()
    {
        var worst = Seconds().Select(x => CpuTicks.Between(x.Previous.Cpu, x.InSecond[^1].Cpu).StealPercent)
            .Where(p => !double.IsNaN(p)).DefaultIfEmpty(double.NaN).Max();
        return (Whole().StealPercent, worst);
    }

    /// <summary>Bytes this process has sent to storage so far (Linux: write_bytes in /proc/self/io, direct writes included); 0 elsewhere.</summary>
    internal static long WrittenBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/io"))
            {
                if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan("write_bytes:".Length).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    /// <summary>Bytes written to storage by the process while recording.</summary>
    public long Written => _samples.Count < 2 ? 0 : _samples[^1].Written - _samples[0].Written;

    /// <summary>The WAL's size and the checkpoint sequence number in its header (bumped each time SQLite restarts the WAL from its start).</summary>
    private sealed class WalProbe(string path) : IDisposable
    {
        private readonly byte[] _header = new byte[16];
        private FileStream? _file;

        public (long Bytes, long Sequence) Read()
        {
            try
            {
                _file ??= new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var length = _file.Length;
                var read = RandomAccess.Read(_file.SafeFileHandle, _header, 0);
                return (length, read == 16 ? BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(12)) : 0);
            }
            catch (IOException)
            {
                return (0, 0);
            }
        }

        public void Dispose() => _file?.Dispose();
    }
}
