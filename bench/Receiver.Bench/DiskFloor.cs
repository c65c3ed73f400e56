using System.Diagnostics;
using Greenhouse.Receiver.Storage;

namespace Receiver.Bench;

/// <summary>
/// The disk's own floor for a durable answer at a given rate, with no HTTP, no process work and no
/// database: deliveries of <c>bodyBytes</c> "arrive" on a fixed schedule, one thread writes whatever
/// has arrived to a file prepared like an inbox log segment (zero-filled; each write from a 4 KiB
/// boundary to the next, with direct I/O where the file system has it, as the log writes) and
/// fdatasyncs it, and a delivery's latency is from its arrival until the sync that covered it
/// ended. What the receiver's half-rate p99 cannot go below on this machine: the half-rate run's
/// durable answers wait for the same kind of syncs.
/// </summary>
internal static class DiskFloor
{
    private const int Page = 4096;

    public static LoadResult Run(string directory, double rate, TimeSpan duration, int bodyBytes)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "floor.seg");
        var total = (long)(rate * duration.TotalSeconds * bodyBytes) + 64L * 1024 * 1024;
        // Prepared as the inbox prepares its segments (direct I/O zeros); a plain file where that is not possible.
        if (!ZeroFill.TryWrite(path, total / Page * Page + Page, 1024 * 1024, 4 * 1024 * 1024, () => false))
        {
            File.WriteAllBytes(path, []);
        }
        var arrivals = (long)(rate * duration.TotalSeconds);
        var latencies = new double[arrivals];
        var buffer = new AlignedStage(bodyBytes * 512 + Page);
        buffer.GetSpan(buffer.Capacity).Fill((byte)'x');
        buffer.Advance(buffer.Capacity);
        using var file = DirectIo.OpenExisting(path);
        long written = 0, offset = 0;
        var clock = Stopwatch.StartNew();
        while (written < arrivals)
        {
            var arrived = Math.Min(arrivals, (long)(clock.Elapsed.TotalSeconds * rate) + 1);
            if (arrived == written)
            {
                Thread.Sleep(0);
                continue;
            }
            var count = (int)Math.Min(arrived - written, 512);
            var data = count * bodyBytes;
            var length = (data + Page - 1) / Page * Page;
            RandomAccess.Write(file.SafeFileHandle, buffer.WrittenSpan[..length], offset);
            FileSync.DataSync(file);
            var synced = clock.Elapsed.TotalMilliseconds;
            for (var i = written; i < written + count; i++)
            {
                latencies[i] = synced - i * 1000.0 / rate;
            }
            offset += length;
            written += count;
        }
        File.Delete(path);
        return LoadResult.FromSamples($"disk alone at the same rate", 0, clock.Elapsed.TotalSeconds, latencies);
    }
}
