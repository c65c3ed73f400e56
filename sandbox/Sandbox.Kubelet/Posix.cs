using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Sandbox.Kubelet;

/// <summary>
/// The two POSIX calls .NET does not offer: kill(2) with SIGTERM (a pod is asked to stop before it is
/// killed) and rename(2) of a symlink over another (.NET's File.Move refuses links to folders).
/// </summary>
internal static partial class Posix
{
    private const int SigTerm = 15;

    public static bool Terminate(int processId) => Kill(processId, SigTerm) == 0;

    /// <summary>Atomically replaces <paramref name="destination"/> with <paramref name="source"/>.</summary>
    public static void Rename(string source, string destination)
    {
        if (RenameNative(source, destination) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"rename {source} -> {destination} failed");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameNative(string oldPath, string newPath);
}
