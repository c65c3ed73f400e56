using Microsoft.Win32.SafeHandles;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Overwrites the records of processed and dead-lettered events in the inbox log with zeros. Dedupe
/// needs only the event ids (in SQLite), a dead letter keeps its own copy of the body, and nothing
/// reads a processed body again, so the raw webhook (names, e-mails) does not outlive processing.
/// The writer only appends past these records, so writing over them never races with it.
/// </summary>
public sealed class InboxLogEraser : IDisposable
{
    private static readonly byte[] Zeros = new byte[64 * 1024];
    private readonly string _directory;
    private long _segment = -1;
    private SafeFileHandle? _handle;

    public InboxLogEraser(string dataDirectory)
    {
        _directory = Path.Combine(dataDirectory, InboxLog.DirectoryName);
    }

    /// <summary>Zeros the record (header and body) at <paramref name="offset"/>; a segment already deleted needs nothing.</summary>
    public void Erase(long segment, long offset, int bodyLength)
    {
        if (segment != _segment)
        {
            _handle?.Dispose();
            _handle = null;
            _segment = -1;
            try
            {
                _handle = File.OpenHandle(InboxLog.SegmentPath(_directory, segment), FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                _segment = segment;
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return;
            }
        }
        var remaining = (long)InboxLog.HeaderBytes + bodyLength;
        var position = offset;
        while (remaining > 0)
        {
            var part = (int)Math.Min(remaining, Zeros.Length);
            RandomAccess.Write(_handle!, Zeros.AsSpan(0, part), position);
            position += part;
            remaining -= part;
        }
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
    }
}
