using System.Diagnostics;
using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>
/// One container of a local pod: its process (restarted with backoff when it exits), its log file
/// and its readiness. Mutated only by the kubelet's sync loop; the process and probe report back
/// through fields the loop reads.
/// </summary>
internal sealed class LocalContainer(V1Container spec, string logPath)
{
    private static readonly TimeSpan BackoffReset = TimeSpan.FromMinutes(10);
    private Process? process;
    private Task? logCopy;
    private int backoffExponent;

    public V1Container Spec { get; } = spec;

    public string LogPath { get; } = logPath;

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

    /// <summary>Starts the process; its output is appended to <see cref="LogPath"/>.</summary>
    public void Start(ProcessStartInfo start, DateTimeOffset now, Action exited)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LogPath)!);
        // The log opens first: a process must never run without the kubelet tracking it.
        var log = new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
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

        logCopy = ProcessOutput.CopyToAsync(started, log);
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
