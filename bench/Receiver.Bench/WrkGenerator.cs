using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Receiver.Bench;

/// <summary>
/// Drives <c>wrk</c> (a C load generator, far cheaper per request than HttpClient) with a Lua script
/// that cycles through the pre-signed bodies and gives every request a unique Greenhouse-Event-ID
/// (the signature covers only the body). Fixed rate: each wrk thread hands out send slots on a
/// schedule through wrk's <c>delay()</c>; latency is then counted from the send, as wrk does.
/// </summary>
internal sealed class WrkGenerator : ILoadGenerator
{
    private const int Threads = 2;
    private readonly Uri _target;
    private readonly int _connections;
    private readonly string _directory;
    private readonly int _bodyCount;
    private int _runs;

    private WrkGenerator(string executable, Uri target, int connections, string directory, int bodyCount)
    {
        Executable = executable;
        _target = target;
        _connections = connections;
        _directory = directory;
        _bodyCount = bodyCount;
    }

    public string Executable { get; }

    /// <summary>The wrk on PATH, or null when it is not installed.</summary>
    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "wrk"))
            .FirstOrDefault(File.Exists);

    /// <summary>Writes the bodies and signatures where the Lua script reads them (once per generator).</summary>
    public static WrkGenerator Create(string executable, Uri target, IReadOnlyList<(byte[] Body, string Signature)> bodies, int connections, string workDirectory)
    {
        var directory = Path.Combine(workDirectory, "wrk-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        for (var i = 0; i < bodies.Count; i++)
        {
            File.WriteAllBytes(Path.Combine(directory, $"{i + 1}.body"), bodies[i].Body);
            File.WriteAllText(Path.Combine(directory, $"{i + 1}.sig"), bodies[i].Signature);
        }
        return new WrkGenerator(executable, target, connections, directory, bodies.Count);
    }

    public Task<LoadResult> MaxRateAsync(string name, TimeSpan duration) => RunAsync(name, duration, intervalMs: 0);

    public Task<LoadResult> FixedRateAsync(string name, double rate, TimeSpan duration) => RunAsync(name, duration, intervalMs: Threads * 1000.0 / rate);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<LoadResult> RunAsync(string name, TimeSpan duration, double intervalMs)
    {
        var run = Interlocked.Increment(ref _runs);
        var script = Path.Combine(_directory, $"run{run}.lua");
        await File.WriteAllTextAsync(script, Script(intervalMs, $"wrk-{Path.GetFileName(_directory)}-{run}"));
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-t", Threads.ToString(CultureInfo.InvariantCulture), "-c", _connections.ToString(CultureInfo.InvariantCulture),
            "-d", $"{(int)duration.TotalSeconds}s", "--timeout", "10s", "-s", script, _target.ToString() })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = (await output).Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk exited with {process.ExitCode} without a result: {await error}{await output}");
        // RESULT <requests> <duration us> <failures> <p50 us> <p99 us> <p99.9 us> <max us>
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return new LoadResult(name, (long)f[0], (long)f[2], f[1] / 1e6, f[3] / 1000, f[4] / 1000, f[5] / 1000, f[6] / 1000);
    }

    private string Script(double intervalMs, string idPrefix)
    {
        var script = new StringBuilder();
        script.Append(CultureInfo.InvariantCulture, $$"""
            local dir = "{{_directory}}"
            local count = {{_bodyCount}}
            local prefix = "{{idPrefix}}"
            local path = "{{_target.PathAndQuery}}"
            local next_thread = 0
            function setup(thread)
              next_thread = next_thread + 1
              thread:set("thread_id", next_thread)
            end
            local bodies, signatures, sent = {}, {}, 0
            local function slurp(name)
              local file = assert(io.open(dir .. "/" .. name, "rb"))
              local content = file:read("*a")
              file:close()
              return content
            end
            function init(args)
              math.randomseed(thread_id * 7919 + os.time())
              for i = 1, count do
                bodies[i] = slurp(i .. ".body")
                signatures[i] = slurp(i .. ".sig")
              end
            end
            function request()
              sent = sent + 1
              local i = sent % count + 1
              return wrk.format("POST", path, {
                ["Content-Type"] = "application/json",
                ["Signature"] = signatures[i],
                -- Random-led like a UUID (an index sees them in no order), unique by the thread and counter suffix.
                ["Greenhouse-Event-ID"] = string.format("%08x-%04x-", math.random(0, 0x7fffffff), math.random(0, 0xffff)) .. prefix .. "-" .. thread_id .. "-" .. sent,
              }, bodies[i])
            end
            function done(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
                e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99),
                latency:percentile(99.9), latency.max))
            end

            """);
        if (intervalMs > 0)
        {
            // Open-loop pacing per wrk thread: each send takes the next slot of a fixed schedule,
            // a late slot is sent at once (the schedule is not pushed back by slow answers).
            script.Append(CultureInfo.InvariantCulture, $$"""
                local ffi = require("ffi")
                ffi.cdef[[
                  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
                  int clock_gettime(int clock, bench_timespec *tp);
                ]]
                local now_ts = ffi.new("bench_timespec")
                local function now_ms()
                  ffi.C.clock_gettime(1, now_ts)
                  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
                end
                local interval = {{intervalMs:R}}
                local next_slot = nil
                function delay()
                  local now = now_ms()
                  if next_slot == nil then next_slot = now end
                  local slot = next_slot
                  next_slot = next_slot + interval
                  if slot <= now then return 0 end
                  return math.floor(slot - now + 0.5)
                end

                """);
        }
        return script.ToString();
    }
}
