using System.Diagnostics;
using Sandbox.Kubelet;

namespace Sandbox;

/// <summary>The operator as a child process of the sandbox, from its build output, its output in a log file.</summary>
internal sealed class OperatorProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly Task logCopy;

    private OperatorProcess(Process process, Task logCopy)
    {
        this.process = process;
        this.logCopy = logCopy;
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public static OperatorProcess Start(string assembly, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(logPath)!,
        };
        start.ArgumentList.Add(assembly);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the operator");
        var log = new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
        return new OperatorProcess(process, CopyAsync(process, log));
    }

    /// <summary>SIGTERM, five seconds to finish, then kill.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            Posix.Terminate(process.Id);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        await logCopy.ConfigureAwait(false);
        process.Dispose();
    }

    private static async Task CopyAsync(Process process, FileStream log)
    {
        await using (log.ConfigureAwait(false))
        {
            using var gate = new SemaphoreSlim(1, 1);
            async Task Pump(StreamReader reader)
            {
                while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    var bytes = System.Text.Encoding.UTF8.GetBytes(line + "\n");
                    await gate.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        await log.WriteAsync(bytes).ConfigureAwait(false);
                        await log.FlushAsync().ConfigureAwait(false);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }
            }

            await Task.WhenAll(Pump(process.StandardOutput), Pump(process.StandardError)).ConfigureAwait(false);
        }
    }
}
