using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Overwrites the records of processed and dead-lettered events in the inbox log with zeros: header,
/// body and the metadata after it (event id, action, arrival time). Dedupe needs only the event ids
/// (in SQLite), a dead letter keeps its own copy of the body, and nothing reads a processed record
/// again, so the raw webhook (names, e-mails) does not outlive processing.
/// <para>
/// Neighbouring records (a pass processes them in log order) are erased as one run: the run's blocks
/// are read (through the page cache, which still holds what the processor just read), the records'
/// bytes are zeroed in that copy, and the blocks are written back with one direct write. Whatever
/// else the blocks hold (a record still waiting for a retry, zeros between groups) is written back as
/// it was: nothing else writes those blocks, because the log's writer only appends, and every group
/// starts on a block of its own. Written directly, the zeros never sit in the page cache as dirty
/// pages of the segment the log is appending to, where the fsync of the next group of deliveries
/// would have to write them before it could answer them. Where the file system has no direct I/O
/// (tmpfs) the same bytes go through the page cache.
/// </para>
/// </summary>
public sealed class InboxLogEraser : IDisposable
{
    // A run is read and written in one call each, up to this many bytes (a pass erases a few hundred KB).
    private const int MaxRun = 1024 * 1024;
    private const int Block = DirectIo.Alignment;
    private readonly string _directory;
    private readonly AlignedStage _run = new(64 * 1024);
    private long _segment = -1;
    private SafeFileHandle? _file;
    private SafeFileHandle? _direct;

    public InboxLogEraser(string dataDirectory)
    {
        _directory = Path.Combine(dataDirectory, InboxLog.DirectoryName);
    }

    /// <summary>
    /// Zeros the given records; returns, per segment, how many were erased whole (header, body and
    /// metadata). A segment that is already deleted needs nothing. Throws <see cref="IOException"/>
    /// when a run cannot be read or written back.
    /// </summary>
    public Dictionary<long, int> Erase(IEnumerable<ErasableRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var whole = new Dictionary<long, int>();
        var ordered = records.OrderBy(r => r.Segment).ThenBy(r => r.Offset).ToList();
        var first = 0;
        while (first < ordered.Count)
        {
            // The run: the records after `first` whose blocks touch or follow the run's last block.
            var last = first;
            var end = ordered[first].End;
            while (last + 1 < ordered.Count)
            {
                var next = ordered[last + 1];
                if (next.Segment != ordered[first].Segment || next.Offset / Block > (end - 1) / Block + 1
                    || next.End - ordered[first].Offset > MaxRun)
                {
                    break;
                }
                end = Math.Max(end, next.End);
                last++;
            }
            var erased = EraseRun(ordered, first, last, end);
            if (erased > 0)
            {
                whole[ordered[first].Segment] = whole.GetValueOrDefault(ordered[first].Segment) + erased;
            }
            first = last + 1;
        }
        return whole;
    }

    /// <summary>Zeros one run; returns how many of its records were erased whole.</summary>
    private int EraseRun(List<ErasableRecord> records, int first, int last, long end)
    {
        if (!Open(records[first].Segment))
        {
            return 0;
        }
        var whole = 0;
        var start = records[first].Offset / Block * Block;
        var length = (int)((end + Block - 1) / Block * Block - start);
        _run.Reset();
        var span = _run.GetSpan(length)[..length];
        var read = ReadFully(_file!, span, start);
        for (var i = first; i <= last; i++)
        {
            var record = records[i];
            var at = (int)(record.Offset - start);
            if (at < read)
            {
                var zeroed = record.ErasedLength(span[at..read]);
                span.Slice(at, Math.Min(zeroed, read - at)).Clear();
                whole += zeroed == record.End - record.Offset && at + zeroed <= read ? 1 : 0;
            }
        }
        _run.Advance(read);
        if (_direct is not null && read % Block == 0)
        {
            RandomAccess.Write(_direct, _run.WrittenSpan, start);
        }
        else
        {
            // No direct I/O here, or a file whose end is not on a block boundary: through the page cache.
            RandomAccess.Write(_file!, _run.WrittenSpan, start);
        }
        if (_run.Capacity > 2 * MaxRun)
        {
            _run.Shrink(64 * 1024);
        }
        return whole;
    }

    private static int ReadFully(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = RandomAccess.Read(file, buffer[read..], offset + read);
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        return read;
    }

    private bool Open(long segment)
    {
        if (segment == _segment)
        {
            return true;
        }
        Close();
        var path = InboxLog.SegmentPath(_directory, segment);
        try
        {
            _file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        _direct = DirectIo.TryOpen(path, createNew: false);
        _segment = segment;
        return true;
    }

    private void Close()
    {
        _file?.Dispose();
        _file = null;
        _direct?.Dispose();
        _direct = null;
        _segment = -1;
    }

    public void Dispose() => Close();
}

/// <summary>
/// Where a processed event's record is in the inbox log: its segment and offset, its body's length
/// and seq (to recognise the record), and the length its metadata has when the record is of the
/// current version (<see cref="InboxLog.MetadataLength"/>).
/// </summary>
public readonly record struct ErasableRecord(long Segment, long Offset, int BodyLength, long Seq, int MetadataLength)
{
    /// <summary>The furthest byte the record can reach: header, body and metadata.</summary>
    public long End => Offset + InboxLog.HeaderBytes + BodyLength + MetadataLength;

    /// <summary>
    /// How many bytes from the record's start to zero, given the bytes found there: header, body and
    /// metadata when the header says it is this record of the current version with this metadata
    /// length; otherwise (a record of the first version, which has no metadata, or bytes that are not
    /// this record any more) header and body only, as the row says.
    /// </summary>
    internal int ErasedLength(ReadOnlySpan<byte> found)
    {
        var core = InboxLog.HeaderBytes + BodyLength;
        return found.Length >= InboxLog.HeaderBytes
            && InboxLog.IsCurrentVersionHeader(found, BodyLength, Seq, MetadataLength)
            ? core + MetadataLength
            : core;
    }
}
