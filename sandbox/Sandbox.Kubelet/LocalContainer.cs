using System.Diagnostics;
using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>
/// One container of a local pod: its process (restarted with backoff when it exits), its log files
/// and its readiness. Each run logs to <c>{logDirectory}/{restartCount}.log</c>, as the real kubelet
/// does under /var/log/pods; the current run's and the previous run's files are kept (<c>kubectl logs --previous</c>). Mutated only by the kubelet's sync loop; the process and probe report back
/// through fields the loop reads.
/// </summary>
internal sealed class LocalContainer(V1Container spec, string logDirectory)
{
    private static readonly TimeSpan BackoffReset = TimeSpan.FromMinutes(10);
    private Process? process;
    private Task? logCopy;
    private int backoffExponent;
    private int lastRun;

    public V1Container Spec { get; } = spec;

    /// <summary>Folder of this container's per-run log files.</summary>
    public string LogDirectory { get; } = logDirectory;

    /// <summary>The log file of the current (or, while waiting to restart, the last) run.</summary>
    public string LogPath => RunLog(lastRun);

    /// <summary>
    /// The log of the last terminated run (<c>kubectl logs --previous</c>): while running, the run before this one;
    /// while waiting to restart, the run that just ended. Null when there is none.
    /// </summary>
    public string? PreviousLogPath => (Running ? lastRun - 1 : StartedAt is null ? -1 : lastRun) is var run && run >= 0 && File.Exists(RunLog(run)) ? RunLog(run) : null;

    /// <summary>The log file of run <paramref name="run"/> (0 = first start).</summary>
    public string RunLog(int run) => Path.Combine(LogDirectory, run.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".log");

    public int RestartCount { get; private set; }

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? RestartDueAt { get; private set; }

    public int? LastExitCode { get; private set; }

    public DateTimeOffset? LastFinishedAt { get; private set; }

    /// <summary>Why the container is not running (ErrImagePull, CrashLoopBackOff, ...), with a message.</summary>
    public (string Reason, string Message)? Waiting { get; set; }

    public ContainerProbe? Readiness { get; set; }

    public ContainerProbe? Liveness { get; set; }

    public bool Running => process is { HasExited: false };

    public int? ProcessId => Running ? process!.Id : null;

    public bool Ready => Running && (Readiness?.Passing ?? true);

    /// <summary>Starts the process; its output goes to this run's log file; logs older than the previous run are removed.</summary>
    public void Start(ProcessStartInfo start, DateTimeOffset now, TimeProvider time, Action exited)
    {
        Directory.CreateDirectory(LogDirectory);
        for (var old = RestartCount - 2; old >= 0 && File.Exists(RunLog(old)); old--)
        {
            File.Delete(RunLog(old));
        }

        // The log opens first: a process must never run without the kubelet tracking it.
        var log = new FileStream(RunLog(RestartCount), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        lastRun = RestartCount;
        var started = new Process { StartInfo = start, EnableRaisingEvents = true };
        started.Exited += (_, _) => exited();
        try
        {
            started.Start();
        }
        catch
        {
            log.Dispose();
            started.Dispose();
            throw;
        }

        logCopy = ProcessOutput.CopyCriLinesAsync(started, log, time);
        process = started;
        StartedAt = now;
        RestartDueAt = null;
        Waiting = null;
        Readiness?.Reset();
        Liveness?.Reset();
    }

    /// <summary>Notices an exit: records it and schedules the restart with exponential backoff.</summary>
    public bool CollectExit(DateTimeOffset now, TimeSpan backoff, TimeSpan maxBackoff)
    {
        if (process is not { HasExited: true } exited)
        {
            return false;
        }

        LastExitCode = exited.ExitCode;
        LastFinishedAt = now;
        // Its last words (a crash's stack trace) are still in the pipe: dispose once the log has them.
        _ = (logCopy ?? Task.CompletedTask).ContinueWith(_ => exited.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        process = null;
        // Like the real kubelet, a container that ran for 10 minutes starts its backoff afresh.
        if (StartedAt is { } started && now - started >= BackoffReset)
        {
            backoffExponent = 0;
        }

        var delay = TimeSpan.FromTicks(Math.Min(maxBackoff.Ticks, backoff.Ticks * (1L << Math.Min(backoffExponent++, 20))));
        RestartCount++;
        RestartDueAt = now + delay;
        Waiting = ("CrashLoopBackOff", $"back-off {delay.TotalSeconds:0.#}s restarting failed container={Spec.Name}");
        Readiness?.Reset();
        Liveness?.Reset();
        return true;
    }

    /// <summary>SIGTERM, then SIGKILL of the whole process tree after the grace period.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        var running = process;
        process = null;
        if (running is null)
        {
            return;
        }

        try
        {
            if (!running.HasExited && Posix.Terminate(running.Id))
            {
                using var timeout = new CancellationTokenSource(grace);
                try
                {
                    await running.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Grace period over: kill, as the kubelet does.
                }
            }

            if (!running.HasExited)
            {
                running.Kill(entireProcessTree: true);
                await running.WaitForExitAsync().ConfigureAwait(false);
            }

            if (logCopy is not null)
            {
                await logCopy.ConfigureAwait(false);
            }
        }
        finally
        {
            running.Dispose();
        }
    }

    /// <summary>Kills at once (shutdown of the kubelet, a failed liveness probe), without waiting.</summary>
    public void Kill()
    {
        try
        {
            if (process is { HasExited: false } running)
            {
                running.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }
}
