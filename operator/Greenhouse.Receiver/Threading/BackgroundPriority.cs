using System.Runtime.InteropServices;

namespace Greenhouse.Receiver.Threading;

/// <summary>
/// Lowers the CPU priority of the calling thread (Linux: nice 10 for that thread only, or leaves it
/// where it is when the whole process already runs at nice 10 or lower priority). The event processor's
/// thread uses it: when requests and processing compete for a core, the kernel runs the request threads
/// first and gives the processor about a tenth of the time; on an idle core it runs at full speed.
/// Elsewhere, or when the call fails, the thread keeps its priority. Threads a lowered thread creates
/// inherit its nice value, thread-pool workers included (the pool starts a worker on the thread that
/// queues work): only a thread that never queues thread-pool work may be lowered.
/// </summary>
public static partial class BackgroundPriority
{
    public const int Nice = 10;
    private const int PrioProcess = 0;

    /// <summary>True when the calling thread's priority was lowered.</summary>
    public static bool Lower()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            if (Current() >= Nice)
            {
                // Already as low (a process started with nice 15, say): raising it would need a privilege.
                return true;
            }
            // With PRIO_PROCESS and a thread id, Linux sets the nice value of that thread alone.
            return SetPriority(PrioProcess, GetThreadId(), Nice) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The calling thread's nice value (Linux), or null where it cannot be read.</summary>
    public static int? Current()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        try
        {
            // -1 is also a valid nice value: errno tells a failure apart.
            Marshal.SetLastPInvokeError(0);
            var nice = GetPriority(PrioProcess, GetThreadId());
            return nice == -1 && Marshal.GetLastPInvokeError() != 0 ? null : nice;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);
}
