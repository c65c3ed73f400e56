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

    public int ExitCode => process.ExitCode;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => process.WaitForExitAsync(cancellationToken);

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
        return new OperatorProcess(process, ProcessOutput.CopyToAsync(process, log));
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
}
