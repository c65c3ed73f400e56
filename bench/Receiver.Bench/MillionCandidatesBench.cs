using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Greenhouse.Receiver;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Microsoft.Extensions.Configuration;

namespace Receiver.Bench;

/// <summary>
/// (d) The bounded-memory mirror at 1,000,000 candidates. The bench writes the database file
/// directly (records and index rows, through the receiver's own CandidateStore), then starts the
/// real receiver as a process of its own on it: start-up is the time from process start to
/// /readyz answering 200, RSS is the receiver's VmRSS (and peak VmHWM) from /proc after it served
/// lookups through its JSON API. Lookup and record-read latencies are measured in this process on
/// the same database with the receiver's own classes (CandidateMirror restored from the index
/// table, CandidateRecordReader), because loopback HTTP adds more than the whole 100 µs budget;
/// the API's own p99 is printed beside them for reference.
/// </summary>
internal static class MillionCandidatesBench
{
    public static async Task RunAsync(string root, int count = 1_000_000)
    {
        Console.WriteLine($"\n(d) {count:N0} candidates: the receiver as its own process on a database of {count:N0} records");
        var dir = Path.Combine(root, "million");
        var data = Path.Combine(dir, "data");
        var secrets = Path.Combine(dir, "secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "secret_key"), "bench-secret");
        var seed = Stopwatch.StartNew();
        MirrorSeed.Write(dir, count);
        Console.WriteLine($"wrote {count:N0} candidates into SQLite in {seed.Elapsed.TotalSeconds:F0} s ({new FileInfo(Path.Combine(data, ReceiverDatabase.FileName)).Length / 1048576.0:F0} MiB file)");

        var (startup, rss, peak, apiP99) = await RunReceiverProcessAsync(secrets, data, count);
        var (lookupP99, readP99, findP99) = MeasureInProcess(secrets, data, count);

        Console.WriteLine($"receiver process: ready after {startup:F1} s, VmRSS {rss:F0} MiB (peak VmHWM {peak:F0} MiB) after 20,000 API lookups; API lookup over loopback HTTP p99 {apiP99 * 1000:F0} us");
        Console.WriteLine($"in-process (same database): index lookup p99 {lookupP99 * 1000:F1} us, record read p99 {readP99:F3} ms, whole lookup with record read and key check p99 {findP99 * 1000:F0} us");
        Console.WriteLine($"{count:N0} candidates: lookup p99 {lookupP99 * 1000:F1} us, record read p99 {readP99:F3} ms, receiver RSS {rss:F0} MiB, start-up {startup:F1} s"
            + $"   (targets: < 100 us {Ok(lookupP99 < 0.1)}, < 1 ms {Ok(readP99 < 1)}, <= 512 MiB {Ok(rss <= 512)}, < 30 s {Ok(startup < 30)})");
    }

    private static string Ok(bool met) => met ? "OK" : "MISSED";

    private static async Task<(double Startup, double Rss, double Peak, double ApiP99)> RunReceiverProcessAsync(string secrets, string data, int count)
    {
        int publicPort = FreePort(), grpcPort = FreePort(), httpPort = FreePort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Greenhouse.Receiver.dll"),
            $"--urls=http://127.0.0.1:{publicPort}", "--Api:BindAddress=127.0.0.1", $"--Api:GrpcPort={grpcPort}", $"--Api:HttpPort={httpPort}",
            $"--Webhook:SecretsDirectory={secrets}", $"--Storage:DataDirectory={data}", "--Api:Auth:Mode=None", "--Logging:LogLevel:Default=Warning",
        })
        {
            start.ArgumentList.Add(arg);
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var started = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            double startup;
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the receiver exited with code {process.ExitCode} before it was ready");
                }
                try
                {
                    using var ready = await http.GetAsync($"http://127.0.0.1:{publicPort}/readyz");
                    if (ready.IsSuccessStatusCode)
                    {
                        startup = started.Elapsed.TotalSeconds;
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
                if (started.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException("the receiver was not ready within 5 minutes");
                }
                await Task.Delay(50);
            }

            // Lookups through the JSON API: the index, record reads and the cache all in use.
            var random = new Random(11);
            var samples = new double[20_000];
            var wrong = 0;
            for (var i = 0; i < samples.Length; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var body = await http.GetStringAsync($"http://127.0.0.1:{httpPort}/v1/candidates:lookup?email=Person{random.Next(count)}@Example.com");
                samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                wrong += body.Contains("\"matches\"", StringComparison.Ordinal) ? 0 : 1;
            }
            if (wrong > 0)
            {
                Console.WriteLine($"  {wrong} API lookups found nothing");
            }
            var (rss, peak) = Memory(process.Id);
            return (startup, rss, peak, LoadResult.Percentile(samples, 99));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    private static (double Lookup, double Read, double Find) MeasureInProcess(string secrets, string data, int count)
    {
        var options = ReceiverOptionsLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhook:SecretsDirectory"] = secrets,
            ["Storage:DataDirectory"] = data,
        }).Build());
        using var records = new CandidateRecordReader(options);
        // No cache: every read below goes to the database.
        var mirror = new CandidateMirror(records, cacheRecords: 0);
        using (var db = ReceiverDatabase.Open(data, TimeSpan.FromSeconds(5)))
        {
            var (candidates, keys) = CandidateStore.Count(db);
            mirror.Restore(CandidateStore.ReadIndex(db), candidates, keys);
        }
        var random = new Random(5);
        var lookup = Sample(200_000, () => mirror.CandidateIdsFor(LookupKeyNormalizer.Email($" Person{random.Next(count)}@Example.COM")!.Value).Count == 1);
        var read = Sample(100_000, () => records.Read(random.Next(count) + 1) is not null);
        var find = Sample(50_000, () => mirror.Find(LookupKeyNormalizer.Email($"person{random.Next(count)}@example.com")!.Value).Count == 1);
        return (lookup, read, find);
    }

    /// <summary>The p99 of <paramref name="calls"/> timed calls (ms) after a warm-up; a wrong answer stops the bench.</summary>
    private static double Sample(int calls, Func<bool> call)
    {
        for (var i = 0; i < 5_000; i++)
        {
            call();
        }
        var samples = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var right = call();
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (!right)
            {
                throw new InvalidOperationException("a lookup or read returned the wrong answer");
            }
        }
        return LoadResult.Percentile(samples, 99);
    }

    /// <summary>VmRSS and VmHWM of the process, MiB.</summary>
    private static (double Rss, double Peak) Memory(int pid)
    {
        double rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kib(line) / 1024.0;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kib(line) / 1024.0;
            }
        }
        return (rss, peak);
    }

    private static long Kib(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
