using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Files opened for direct I/O (Linux O_DIRECT): writes go from the caller's buffer to the disk
/// without a copy into the page cache. The inbox log is written once and read once, soon after, so
/// caching it buys nothing; and on virtual machines whose host takes freed guest memory back (free
/// page reporting), every page the page cache allocates for a new write is first touched again at
/// about 12 µs a page, which made the ingest thread's copy of each 5 KB body cost 10-15 µs of
/// system time instead of 1-2. A direct write needs its buffer, its offset and its length aligned
/// to the device's block: <see cref="Alignment"/> (4 KiB) covers every block size in use.
/// </summary>
internal static partial class DirectIo
{
    public const int Alignment = 4096;
    private const int ReadWrite = 0x2;
    private const int Create = 0x40;
    private const int Exclusive = 0x80;
    private const int CloseOnExec = 0x80000;
    private const int OwnerReadWrite = 0x180; // 0600: the file will hold deliveries' bodies

    /// <summary>O_DIRECT differs by architecture (x86: 040000, the generic Linux ABI of arm64: 0200000); 0 where unknown.</summary>
    private static int Direct => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000,
        Architecture.Arm64 or Architecture.Arm => 0x10000,
        _ => 0,
    };

    /// <summary>
    /// Opens <paramref name="path"/> read-write for direct I/O (creating it, owner-only, when
    /// <paramref name="createNew"/>; failing if it exists), or null where direct I/O is not available:
    /// another OS, or a file system without it (tmpfs). Null also for any other failure to open;
    /// the caller then opens the file the ordinary way and reports that error if it has one.
    /// </summary>
    public static SafeFileHandle? TryOpen(string path, bool createNew)
    {
        if (!OperatingSystem.IsLinux() || Direct == 0)
        {
            return null;
        }
        var flags = ReadWrite | CloseOnExec | Direct | (createNew ? Create | Exclusive : 0);
        var fd = OpenFile(path, flags, OwnerReadWrite);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>An existing file opened read-write, for direct I/O where the file system has it and through the page cache elsewhere.</summary>
    public static FileStream OpenExisting(string path) =>
        TryOpen(path, createNew: false) is { } direct
            ? new FileStream(direct, FileAccess.ReadWrite, bufferSize: 0)
            : new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

    /// <summary>True when <paramref name="file"/> is open for direct I/O.</summary>
    public static bool IsDirect(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!OperatingSystem.IsLinux() || Direct == 0)
        {
            return false;
        }
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            var flags = GetFlags((int)file.DangerousGetHandle(), GetStatusFlags);
            return flags >= 0 && (flags & Direct) != 0;
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    private const int GetStatusFlags = 3; // F_GETFL

    [LibraryImport("libc", EntryPoint = "fcntl")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int GetFlags(int fd, int command);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int OpenFile(string path, int flags, int mode);
}

/// <summary>
/// A growable staging buffer whose start is aligned to <see cref="DirectIo.Alignment"/>, as a
/// direct write needs: a pinned array (never moved by the garbage collector, so the buffer can be
/// handed to the kernel), used from its first aligned byte. Single-threaded, like the log's writer.
/// </summary>
internal sealed class AlignedStage
{
    private byte[] _array;
    private int _start;
    private int _capacity;

    public AlignedStage(int capacity)
    {
        (_array, _start, _capacity) = Allocate(capacity);
    }

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public int WrittenCount { get; private set; }

    public int Capacity => _capacity;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(_start, WrittenCount);

    /// <summary>At least <paramref name="size"/> bytes to write into, growing the buffer (keeping what is written) when needed.</summary>
    public Span<byte> GetSpan(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (WrittenCount + size > _capacity)
        {
            var (array, start, capacity) = Allocate(Math.Max(checked(WrittenCount + size), checked(_capacity * 2)));
            WrittenSpan.CopyTo(array.AsSpan(start));
            (_array, _start, _capacity) = (array, start, capacity);
        }
        return _array.AsSpan(_start + WrittenCount, _capacity - WrittenCount);
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _capacity - WrittenCount);
        WrittenCount += count;
    }

    public void Reset() => WrittenCount = 0;

    /// <summary>Drops the contents and goes back to a buffer of <paramref name="capacity"/> bytes (after a batch of very large bodies).</summary>
    public void Shrink(int capacity)
    {
        WrittenCount = 0;
        (_array, _start, _capacity) = Allocate(capacity);
    }

    private static (byte[] Array, int Start, int Capacity) Allocate(int capacity)
    {
        capacity = (capacity + DirectIo.Alignment - 1) / DirectIo.Alignment * DirectIo.Alignment;
        var array = GC.AllocateUninitializedArray<byte>(capacity + DirectIo.Alignment, pinned: true);
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        var start = (int)((DirectIo.Alignment - (address % DirectIo.Alignment)) % DirectIo.Alignment);
        return (array, start, capacity);
    }
}

/// <summary>
/// Creates a file of zeros written with direct I/O (no page-cache copy, almost no CPU) and synced.
/// Linux only; false where direct I/O is not available (another OS, tmpfs), leaving no file.
/// </summary>
internal static class ZeroFill
{
    public static bool TryWrite(string path, long length, int chunk, long syncEvery, Func<bool> cancelled)
    {
        // EINVAL (no direct I/O on this file system), a leftover, no space: none is worth a retry.
        using var handle = DirectIo.TryOpen(path, createNew: true);
        if (handle is null)
        {
            return false;
        }
        var zeros = new AlignedStage(chunk);
        zeros.GetSpan(zeros.Capacity).Clear();
        zeros.Advance(zeros.Capacity);
        var complete = false;
        try
        {
            long unsynced = 0;
            for (long offset = 0; offset < length; offset += chunk)
            {
                if (cancelled())
                {
                    return false;
                }
                var part = (int)Math.Min(chunk, length - offset);
                // Direct I/O wants whole blocks; a segment size that is not a multiple of 4 KiB gets its last block whole.
                RandomAccess.Write(handle, zeros.WrittenSpan[..((part + DirectIo.Alignment - 1) / DirectIo.Alignment * DirectIo.Alignment)], offset);
                unsynced += part;
                if (unsynced >= syncEvery)
                {
                    FileSync.DataSync(handle);
                    unsynced = 0;
                }
            }
            FileSync.DataSync(handle);
            complete = true;
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        finally
        {
            if (!complete)
            {
                handle.Dispose();
                try
                {
                    File.Delete(path);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}
