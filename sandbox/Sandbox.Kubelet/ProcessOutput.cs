using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Sandbox.Kubelet;

/// <summary>
/// Copies a child process's stdout and stderr, as they come, into one log file: as they are (the
/// operator's log), or for containers line by line in the CRI format the real kubelet writes under
/// /var/log/pods: <c>2026-12-02T00:49:22.123456789Z stdout F text</c>. The timestamps serve
/// <c>kubectl logs --since</c> and <c>--timestamps</c>.
/// </summary>
internal static class ProcessOutput
{
    public static async Task CopyToAsync(Process process, FileStream log)
    {
        await using (log.ConfigureAwait(false))
        {
            using var gate = new SemaphoreSlim(1, 1);
            async Task Pump(StreamReader reader)
            {
                var buffer = new char[4096];
                int read;
                while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    var bytes = Encoding.UTF8.GetBytes(buffer, 0, read);
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

    public static async Task CopyCriLinesAsync(Process process, FileStream log, TimeProvider time)
    {
        await using (log.ConfigureAwait(false))
        {
            using var gate = new SemaphoreSlim(1, 1);
            async Task Pump(StreamReader reader, string stream)
            {
                while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    var bytes = Encoding.UTF8.GetBytes(FormatLine(time.GetUtcNow(), stream, line));
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

            await Task.WhenAll(Pump(process.StandardOutput, "stdout"), Pump(process.StandardError, "stderr")).ConfigureAwait(false);
        }
    }

    internal static string FormatLine(DateTimeOffset at, string stream, string line) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", CultureInfo.InvariantCulture) + " " + stream + " F " + line + "\n";
}
