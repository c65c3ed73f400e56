using System.Runtime.InteropServices;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// An exclusive <c>flock</c> on the data directory itself, held for the life of the process: two receivers must
/// never write the same database and inbox log (a second pod on the same volume, or a second process on a node).
/// Locking the directory rather than a file in it works while the directory is read-only (the receiver then waits,
/// answering 503, until it is writable). The kernel releases the lock when the process ends, however it ends.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    private const int OpenReadOnly = 0;
    private const int OpenCloseOnExec = 0x80000;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int WouldBlock = 11;

    private int _fd;

    private DataDirectoryLock(int fd) => _fd = fd;

    /// <summary>
    /// Takes the lock or throws <see cref="DataDirectoryInUseException"/> when another process holds it. When the
    /// directory cannot be opened at all there is nothing to share yet; the storage reports that problem itself.
    /// </summary>
    public static DataDirectoryLock Acquire(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new DataDirectoryLock(-1);
        }

        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Reported by the storage when it opens the database.
        }

        var fd = NativeMethods.Open(directory, OpenReadOnly | OpenCloseOnExec);
        if (fd < 0)
        {
            return new DataDirectoryLock(-1);
        }

        if (NativeMethods.Flock(fd, LockExclusive | LockNonBlocking) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = NativeMethods.Close(fd);
            if (errno == WouldBlock)
            {
                throw new DataDirectoryInUseException(
                    $"the data directory {directory} is in use by another receiver (it holds the directory's lock); two receivers must never share one volume: stop the other one or give this one its own volume");
            }

            return new DataDirectoryLock(-1);
        }

        return new DataDirectoryLock(fd);
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _ = NativeMethods.Close(fd);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Flock(int fd, int operation);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int fd);
    }
}
