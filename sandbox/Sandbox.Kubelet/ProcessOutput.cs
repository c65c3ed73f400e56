using System.Diagnostics;

namespace Sandbox.Kubelet;

/// <summary>Copies a child process's stdout and stderr, as they come, into one log file.</summary>
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
                    var bytes = System.Text.Encoding.UTF8.GetBytes(buffer, 0, read);
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
