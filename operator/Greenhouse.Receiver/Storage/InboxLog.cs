using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Append-only segment files that hold the raw bodies of stored deliveries, next to the SQLite
/// inbox that indexes them (<c>inbox.body_segment/body_offset/body_length</c>). A group commit
/// writes every new body of its batch with one write call, from a 4 KiB boundary to the next (zeros
/// after its last record; the next group starts at that boundary), with direct I/O where the file
/// system has it (<see cref="DirectIo"/>: no copy into the page cache), and the bodies never pass
/// through SQLite's WAL and its checkpoint (which would write each body twice more). The inbox's fsync
/// thread syncs the segment before the WAL, so a delivery is answered 200 only when both its row
/// and its body are on disk. After a crash a row can be durable while its body is not (it was
/// never answered 200): <see cref="WebhookInbox"/> finds such rows when it opens and deletes them.
/// Record: magic (4) | body length (4) | seq (8) | CRC-32 of the body (4) | metadata length (4) | body |
/// metadata (arrival time, event id, action, and a CRC-32 of header and metadata). The log is what makes
/// a delivery durable: the inbox answers 200 once its record is synced, and inserts the rows into SQLite
/// later, in batches, off the request path; after a crash it rebuilds any rows SQLite lost from the log.
/// A new segment starts on every open (a torn tail is never appended to) and once one holds 64 MiB;
/// segments no inbox row refers to are deleted by pruning.
/// Nothing slow runs on the writer at a rollover: the next segment is prepared ahead on a thread of
/// its own (created as <c>NNN.next</c>, filled with zeros and synced, then renamed when it is
/// needed), and the fsync thread syncs the old segment's tail and the directory entry of the new one
/// before it answers the deliveries written there (preparing starts once the current segment is a quarter full). Writing over blocks that are already allocated,
/// an fdatasync flushes only the data: appending to a file changed its size and allocated blocks
/// on every sync, which cost a file-system journal commit each time (and on ext4 that commit also
/// waits for other files' dirty data). At most two segments (the current one and the one before)
/// can hold bodies that are not synced yet.
/// </summary>
public sealed class InboxLog : IDisposable
{
    public const string DirectoryName = "inbox-log";
    public const int HeaderBytes = 24;
    /// <summary>Every group of records starts at a multiple of this many bytes; zeros fill the space before it.</summary>
    public const int GroupAlignment = DirectIo.Alignment;
    // Version 2 records carry their metadata after the body; version 1 ("GHIB") records are still read.
    private const uint Magic = 0x32494847; // "GHI2"
    private const uint MagicVersion1 = 0x42494847; // "GHIB"
    // Metadata: arrival time (8) | event id length (2) | action length (2) | id | action | CRC-32 (4).
    private const int MetaFixedBytes = 12;
    private const string Extension = ".seg";
    private const string PreparedExtension = ".next";
    private const string SpareExtension = ".spare";
    private const string TrashExtension = ".trash";
    // A retired segment is cut this much at a time, this long apart, before it is deleted.
    private const int TrashStep = 4 * 1024 * 1024;
    private static readonly TimeSpan TrashPause = TimeSpan.FromMilliseconds(25);
    private const int ZeroChunk = 1024 * 1024;
    // The preparer syncs every few MiB, so the disk never gets one long burst of zeros queued ahead of a delivery's fsync.
    private const int ZeroSyncEvery = 4 * 1024 * 1024;

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly Lock _sync = new();
    // A batch's bodies are written in one call up to this many bytes (bodies may be up to 5 MiB each).
    private const int StageLimit = 8 * 1024 * 1024;
    private readonly AlignedStage _staged = new(64 * 1024);
    private FileStream? _file;
    private long _segment;
    private long _length;
    private bool _dirty;
    // The segment before the current one until the fsync thread has synced its tail.
    private FileStream? _retired;
    // A new segment's directory entry is synced by the fsync thread before anything in it is answered.
    private bool _directoryDirty;
    private Thread? _preparer;
    private long _preparing;
    // The prepared file and the segment it was prepared for: the writer uses it for that segment only.
    private (FileStream File, long Segment)? _prepared;
    // The segment the writer last started (set when it decides whether to use a prepared file): a file
    // prepared for it or an earlier one after that is too late and is deleted, never used for another segment.
    private long _started;
    private volatile bool _disposed;
    // Per segment this log wrote: records written and not yet erased. A segment whose count is back
    // at zero holds nothing but zeros, and is reused for a later segment instead of being deleted.
    private readonly Dictionary<long, int> _unerased = [];
    // A used segment kept for reuse (all zeros): the next segment is prepared by renaming it, not by writing 64 MiB of zeros.
    private string? _spare;
    // Retired segments waiting to be deleted a few MiB at a time, and the thread that does it.
    private readonly Queue<string> _trash = new();
    private Thread? _deleter;

    public InboxLog(string dataDirectory, long segmentBytes = 64L * 1024 * 1024)
    {
        _directory = Path.Combine(dataDirectory, DirectoryName);
        _segmentBytes = segmentBytes;
    }

    /// <summary>True once the next segment is prepared (zero-filled and synced) and the rollover will use it.</summary>
    internal bool NextSegmentReady
    {
        get
        {
            lock (_sync)
            {
                return _prepared is not null;
            }
        }
    }

    /// <summary>True when the current segment is written with direct I/O (past the page cache), as its open file says.</summary>
    internal bool WritesDirect
    {
        get
        {
            lock (_sync)
            {
                return _file is { } file && DirectIo.IsDirect(file.SafeFileHandle);
            }
        }
    }

    /// <summary>The segment being written, or 0 before the first <see cref="Open"/>.</summary>
    public long CurrentSegment => _segment;

    /// <summary>Starts a new segment after the highest one on disk.</summary>
    public void Open()
    {
        Directory.CreateDirectory(_directory);
        // A segment prepared by an earlier run never held a record; a spare left by one is not known
        // to be all zeros any more (its erasures may not have reached the disk before a crash).
        foreach (var leftover in Directory.EnumerateFiles(_directory, "*" + PreparedExtension)
            .Concat(Directory.EnumerateFiles(_directory, "*" + SpareExtension))
            .Concat(Directory.EnumerateFiles(_directory, "*" + TrashExtension)))
        {
            Trash(leftover);
        }
        var highest = ListSegments(_directory).DefaultIfEmpty(0).Max();
        StartSegment(Math.Max(highest, _segment) + 1);
        // At start the directory entry is synced here, before anything is written to the segment.
        lock (_sync)
        {
            _directoryDirty = false;
        }
        SyncDirectory();
    }

    /// <summary>Where the next staged body will start: its segment and offset.</summary>
    public (long Segment, long Offset) NextPosition()
    {
        if (_file is null)
        {
            throw new InvalidOperationException("the inbox log is not open");
        }
        if (_staged.WrittenCount == 0 && _length >= _segmentBytes)
        {
            Rotate();
        }
        return (_segment, _length + _staged.WrittenCount);
    }

    /// <summary>
    /// Adds one record to the batch that <see cref="WriteStaged"/> writes: the body, and after it the
    /// delivery's event id, action and arrival time, so the log alone can rebuild the inbox row
    /// (<see cref="Recover"/>). Returns the record's length in bytes.
    /// </summary>
    public int Stage(long seq, ReadOnlySpan<byte> body, string eventId, string action, long receivedAtMs)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentNullException.ThrowIfNull(action);
        var idBytes = Encoding.UTF8.GetByteCount(eventId);
        var actionBytes = Encoding.UTF8.GetByteCount(action);
        if (idBytes > ushort.MaxValue || actionBytes > ushort.MaxValue)
        {
            throw new ArgumentException("event id or action too long for the inbox log");
        }
        var metaBytes = MetadataLength(idBytes, actionBytes);
        var total = HeaderBytes + body.Length + metaBytes;
        var span = _staged.GetSpan(total);
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], body.Length);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], seq);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], Crc32.HashToUInt32(body));
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], metaBytes);
        body.CopyTo(span[HeaderBytes..]);
        var meta = span.Slice(HeaderBytes + body.Length, metaBytes);
        BinaryPrimitives.WriteInt64LittleEndian(meta, receivedAtMs);
        BinaryPrimitives.WriteUInt16LittleEndian(meta[8..], (ushort)idBytes);
        BinaryPrimitives.WriteUInt16LittleEndian(meta[10..], (ushort)actionBytes);
        Encoding.UTF8.GetBytes(eventId, meta[MetaFixedBytes..]);
        Encoding.UTF8.GetBytes(action, meta[(MetaFixedBytes + idBytes)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(meta[^4..], MetaChecksum(span[..HeaderBytes], meta[..^4]));
        _staged.Advance(total);
        lock (_sync)
        {
            _unerased[_segment] = _unerased.GetValueOrDefault(_segment) + 1;
        }
        if (_staged.WrittenCount >= StageLimit)
        {
            WriteStaged();
        }
        return total;
    }

    /// <summary>The length of the metadata after the body of a record with this event id and action.</summary>
    public static int MetadataLength(string eventId, string action)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentNullException.ThrowIfNull(action);
        return MetadataLength(Encoding.UTF8.GetByteCount(eventId), Encoding.UTF8.GetByteCount(action));
    }

    private static int MetadataLength(int idBytes, int actionBytes) => MetaFixedBytes + idBytes + actionBytes + 4;

    /// <summary>True when <paramref name="header"/> starts a record of the current version with this body length, seq and metadata length.</summary>
    internal static bool IsCurrentVersionHeader(ReadOnlySpan<byte> header, int bodyLength, long seq, int metadataLength) =>
        header.Length >= HeaderBytes
        && BinaryPrimitives.ReadUInt32LittleEndian(header) == Magic
        && BinaryPrimitives.ReadInt32LittleEndian(header[4..]) == bodyLength
        && BinaryPrimitives.ReadInt64LittleEndian(header[8..]) == seq
        && BinaryPrimitives.ReadInt32LittleEndian(header[20..]) == metadataLength;

    [ThreadStatic]
    private static Crc32? t_metaCrc;

    /// <summary>The metadata's checksum also covers the header, so a record's parts cannot be mixed with another's.</summary>
    private static uint MetaChecksum(ReadOnlySpan<byte> header, ReadOnlySpan<byte> meta)
    {
        // One hasher per thread, not one per record: the ingest thread stages a record per delivery.
        var crc = t_metaCrc ??= new Crc32();
        crc.Reset();
        crc.Append(header);
        crc.Append(meta);
        return crc.GetCurrentHashAsUInt32();
    }

    /// <summary>
    /// The records after <paramref name="afterSeq"/> from (<paramref name="segment"/>, <paramref name="offset"/>)
    /// on, through every later segment, in order: what the inbox rebuilds rows from when its database
    /// lost commits the log still has (a power loss before SQLite's WAL reached the disk). Reading a
    /// segment skips the zeros that end a group up to the next 4 KiB boundary and stops at the first
    /// record that is missing, torn or from an older version (its end, zeros at a boundary, or a tail
    /// that never reached the disk).
    /// </summary>
    public static List<LogRecord> Recover(string dataDirectory, long segment, long offset, long afterSeq)
    {
        var directory = Path.Combine(dataDirectory, DirectoryName);
        var found = new List<LogRecord>();
        foreach (var number in ListSegments(directory).Where(n => n >= segment).Order())
        {
            using var handle = File.OpenHandle(SegmentPath(directory, number), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(handle);
            var at = number == segment ? offset : 0;
            var header = new byte[HeaderBytes];
            var previous = long.MinValue;
            while (at + HeaderBytes <= length && RandomAccess.Read(handle, header, at) == HeaderBytes)
            {
                if (at % GroupAlignment != 0 && GroupPaddingEnd(handle, at, length) is { } next)
                {
                    // Zeros from here to the block boundary: the padding after a group, the next group starts there.
                    at = next;
                    continue;
                }
                var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
                var metaLength = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(20));
                if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || bodyLength < 0 || metaLength < MetaFixedBytes + 4
                    || metaLength > MetaFixedBytes + 2 * ushort.MaxValue + 4 || at + HeaderBytes + bodyLength + metaLength > length)
                {
                    break;
                }
                var rest = new byte[bodyLength + metaLength];
                if (RandomAccess.Read(handle, rest, at + HeaderBytes) != rest.Length)
                {
                    break;
                }
                var body = rest.AsSpan(0, bodyLength);
                var meta = rest.AsSpan(bodyLength);
                if (BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(16)) != Crc32.HashToUInt32(body)
                    || BinaryPrimitives.ReadUInt32LittleEndian(meta[^4..]) != MetaChecksum(header, meta[..^4]))
                {
                    break;
                }
                int idBytes = BinaryPrimitives.ReadUInt16LittleEndian(meta[8..]), actionBytes = BinaryPrimitives.ReadUInt16LittleEndian(meta[10..]);
                if (MetaFixedBytes + idBytes + actionBytes + 4 != metaLength)
                {
                    break;
                }
                var seq = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
                if (seq <= previous)
                {
                    // Seqs only grow within a segment: an older record is what a reused segment held
                    // before (an erasure that a crash kept from reaching the disk), past the new end.
                    break;
                }
                previous = seq;
                var end = at + HeaderBytes + bodyLength + metaLength;
                if (seq > afterSeq)
                {
                    found.Add(new LogRecord(seq, Encoding.UTF8.GetString(meta.Slice(MetaFixedBytes, idBytes)),
                        Encoding.UTF8.GetString(meta.Slice(MetaFixedBytes + idBytes, actionBytes)),
                        BinaryPrimitives.ReadInt64LittleEndian(meta), number, at, bodyLength, end));
                }
                at = end;
            }
        }
        return found;
    }

    /// <summary>The next <see cref="GroupAlignment"/> boundary when every byte from <paramref name="at"/> up to it is zero, else null.</summary>
    private static long? GroupPaddingEnd(SafeFileHandle segment, long at, long length)
    {
        var boundary = Math.Min(length, (at / GroupAlignment + 1) * GroupAlignment);
        Span<byte> rest = stackalloc byte[GroupAlignment];
        rest = rest[..(int)(boundary - at)];
        return RandomAccess.Read(segment, rest, at) == rest.Length && !rest.ContainsAnyExcept((byte)0) ? boundary : null;
    }

    /// <summary>Writes the staged records with one call (not synced yet); drops them when the write fails.</summary>
    public void WriteStaged()
    {
        if (_staged.WrittenCount == 0)
        {
            return;
        }
        try
        {
            // The group is padded with zeros to the next 4 KiB boundary, where the next group starts:
            // every write covers whole blocks from an aligned buffer, as direct I/O needs, and never
            // rewrites a block an earlier group wrote (so it cannot undo the eraser's zeros there).
            // Through the page cache (no direct I/O) whole blocks matter as well: a write that ends
            // part-way into a block the cache does not hold makes the file system read it first.
            var data = _staged.WrittenCount;
            var pad = (int)((GroupAlignment - data % GroupAlignment) % GroupAlignment);
            _staged.GetSpan(pad)[..pad].Clear();
            _staged.Advance(pad);
            RandomAccess.Write(_file!.SafeFileHandle, _staged.WrittenSpan, _length);
            _length += data + pad;
            Volatile.Write(ref _dirty, true);
            // A quarter full: time to prepare the next one (a receiver that stores little never writes a spare 64 MiB).
            if (_length >= _segmentBytes / 4)
            {
                PrepareNext(_segment + 1);
            }
        }
        finally
        {
            if (_staged.Capacity > 2 * StageLimit)
            {
                // Do not keep a buffer grown for a batch of very large bodies.
                _staged.Shrink(64 * 1024);
            }
            else
            {
                _staged.Reset();
            }
        }
    }

    /// <summary>Forgets staged records (their rows were rolled back; any already written stay as unreferenced bytes).</summary>
    public void DiscardStaged() => _staged.Reset();

    /// <summary>
    /// Makes every record written before the call durable: the previous segment's tail after a
    /// rollover, the current segment if anything was written since the last sync, and a new
    /// segment's directory entry. Called by the fsync thread; the writer is never held while it syncs.
    /// </summary>
    public void Sync()
    {
        FileStream? retired, file;
        bool dirty, directory;
        lock (_sync)
        {
            retired = _retired;
            file = _file;
            dirty = _dirty;
            _dirty = false;
            directory = _directoryDirty;
            _directoryDirty = false;
        }
        try
        {
            if (retired is not null)
            {
                FileSync.DataSync(retired);
                lock (_sync)
                {
                    if (ReferenceEquals(_retired, retired))
                    {
                        _retired = null;
                    }
                }
                retired.Dispose();
            }
            if (file is not null && dirty)
            {
                FileSync.DataSync(file);
            }
            if (directory)
            {
                SyncDirectory();
            }
        }
        catch (ObjectDisposedException ex)
        {
            // The writer closed the log meanwhile (after a failed commit it reopens storage): what
            // was written to it cannot be confirmed durable.
            throw new IOException("the inbox log was closed while it was being synced", ex);
        }
        catch
        {
            // Not durable: the next sync tries again.
            lock (_sync)
            {
                _dirty |= dirty;
                _directoryDirty |= directory;
            }
            throw;
        }
    }

    /// <summary>
    /// Retires every segment below <paramref name="lowestInUse"/> (never the one being written): one
    /// whose every record was erased, written by this log and at least a segment long, is kept as the
    /// spare that the next segment reuses (if there is none yet); the others are deleted. Returns how
    /// many were retired.
    /// </summary>
    public int DeleteSegmentsBelow(long lowestInUse)
    {
        var retired = 0;
        foreach (var segment in ListSegments(_directory).Where(s => s < lowestInUse).Order())
        {
            if (segment == _segment)
            {
                continue;
            }
            var path = SegmentPath(_directory, segment);
            if (!TryKeepAsSpare(segment, path))
            {
                Trash(path);
            }
            retired++;
        }
        return retired;
    }

    /// <summary>Renames a file to <c>NNN.trash</c> at once (it is no segment any more) and deletes it gradually (<see cref="Discard"/>).</summary>
    private void Trash(string path)
    {
        var trash = Path.ChangeExtension(path, TrashExtension);
        if (trash != path)
        {
            File.Move(path, trash, overwrite: true);
        }
        Discard(trash);
    }

    /// <summary>
    /// Deletes a file a few MiB at a time on a thread of its own. Deleted in one go, a 64 MiB file
    /// frees all its blocks in one file-system commit, and where the file system discards freed
    /// blocks (ext4 mounted with <c>discard</c>) the device works through 64 MiB of discards ahead of
    /// the next delivery's write: single writes then waited 10-60 ms on this VM, against 4-12 ms when
    /// the file is cut 4 MiB at a time (RocksDB deletes its files the same way, for the same reason).
    /// </summary>
    private void Discard(string path)
    {
        lock (_sync)
        {
            _trash.Enqueue(path);
            if (_deleter is { IsAlive: true } || _disposed)
            {
                return;
            }
            _deleter = new Thread(DeleteTrash) { IsBackground = true, Name = "inbox-log-delete" };
            _deleter.Start();
        }
    }

    private void DeleteTrash()
    {
        while (!_disposed)
        {
            string? path;
            lock (_sync)
            {
                if (!_trash.TryDequeue(out path))
                {
                    _deleter = null;
                    return;
                }
            }
            try
            {
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0))
                {
                    for (var length = file.Length; length > 0 && !_disposed;)
                    {
                        length = Math.Max(0, length - TrashStep);
                        file.SetLength(length);
                        Thread.Sleep(TrashPause);
                    }
                }
                if (!_disposed)
                {
                    File.Delete(path);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left for the next open, which deletes leftovers again.
            }
        }
    }

    /// <summary>Records of <paramref name="segment"/> that were just erased (header, body and metadata all zeros).</summary>
    public void MarkErased(long segment, int records)
    {
        lock (_sync)
        {
            if (_unerased.TryGetValue(segment, out var left))
            {
                _unerased[segment] = left - records;
            }
        }
    }

    private bool TryKeepAsSpare(long segment, string path)
    {
        lock (_sync)
        {
            var clean = _unerased.Remove(segment, out var left) && left == 0;
            if (!clean || _spare is not null || _disposed)
            {
                return false;
            }
        }
        try
        {
            // Shorter than a segment (the first one after an open grows as it is written): appending
            // past its end would allocate blocks at every sync, which is what preparing avoids.
            if (new FileInfo(path).Length < _segmentBytes)
            {
                return false;
            }
            var spare = Path.Combine(_directory, Path.GetFileNameWithoutExtension(path) + SpareExtension);
            File.Move(path, spare);
            lock (_sync)
            {
                _spare = spare;
            }
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The spare segment renamed to <paramref name="prepared"/>; false when there is none.</summary>
    private bool TakeSpare(string prepared)
    {
        string? spare;
        lock (_sync)
        {
            spare = _spare;
            _spare = null;
        }
        if (spare is null)
        {
            return false;
        }
        try
        {
            File.Move(spare, prepared);
            return true;
        }
        catch (IOException)
        {
            TryDelete(spare);
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _preparer?.Join();
        Thread? deleter;
        lock (_sync)
        {
            deleter = _deleter;
        }
        deleter?.Join();
        lock (_sync)
        {
            _file?.Dispose();
            _file = null;
            _retired?.Dispose();
            _retired = null;
            _prepared?.File.Dispose();
            _prepared = null;
        }
    }

    /// <summary>The body of record <paramref name="seq"/>, or null when it is missing, torn or not that record.</summary>
    public static byte[]? Read(SafeFileHandle segment, long offset, int length, long seq)
    {
        var body = new byte[length];
        return TryRead(segment, offset, body, new byte[HeaderBytes], seq) ? body : null;
    }

    /// <summary>
    /// Reads the body of record <paramref name="seq"/> into <paramref name="body"/> (exactly its
    /// length) with one vectored read of header and body; false when it is missing, torn or not that record.
    /// </summary>
    public static bool TryRead(SafeFileHandle segment, long offset, Memory<byte> body, byte[] header, long seq)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(header);
        var length = body.Length;
        if (RandomAccess.Read(segment, [header.AsMemory(0, HeaderBytes), body], offset) != HeaderBytes + length
            && !ReadRest(segment, header, body, offset))
        {
            return false;
        }
        return BinaryPrimitives.ReadUInt32LittleEndian(header) is Magic or MagicVersion1
            && BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4)) == length
            && BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8)) == seq
            && BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(16)) == Crc32.HashToUInt32(body.Span);
    }

    /// <summary>A short read (rare for a regular file): read both parts again one by one; false at the end of the file.</summary>
    private static bool ReadRest(SafeFileHandle segment, byte[] header, Memory<byte> body, long offset)
    {
        return ReadExactly(segment, header.AsMemory(0, HeaderBytes), offset) && ReadExactly(segment, body, offset + HeaderBytes);

        static bool ReadExactly(SafeFileHandle file, Memory<byte> buffer, long at)
        {
            var read = 0;
            while (read < buffer.Length)
            {
                var n = RandomAccess.Read(file, buffer.Span[read..], at + read);
                if (n == 0)
                {
                    return false;
                }
                read += n;
            }
            return true;
        }
    }

    public static string SegmentPath(string logDirectory, long segment) =>
        Path.Combine(logDirectory, segment.ToString("D12", CultureInfo.InvariantCulture) + Extension);

    public static IEnumerable<long> ListSegments(string logDirectory)
    {
        if (!Directory.Exists(logDirectory))
        {
            yield break;
        }
        foreach (var path in Directory.EnumerateFiles(logDirectory, "*" + Extension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var segment))
            {
                yield return segment;
            }
        }
    }

    private void Rotate()
    {
        // The old segment's tail is synced by the fsync thread, before it answers anything written
        // after this. Only if it has not got round to the one before (two rollovers within one sync)
        // is that one synced here, so that never more than two segments hold unsynced records.
        FileStream? unsynced;
        lock (_sync)
        {
            unsynced = _retired;
            _retired = _file;
            _file = null;
        }
        if (unsynced is not null)
        {
            try
            {
                FileSync.DataSync(unsynced);
            }
            catch (ObjectDisposedException)
            {
                // The fsync thread synced and closed it meanwhile.
            }
            unsynced.Dispose();
        }
        StartSegment(_segment + 1);
    }

    private void StartSegment(long segment)
    {
        var path = SegmentPath(_directory, segment);
        (FileStream File, long Segment)? prepared;
        lock (_sync)
        {
            // Taking the prepared file and marking the segment started is one step: a preparer that
            // finishes after it sees the segment started and deletes its file instead of handing it over.
            prepared = _prepared;
            _prepared = null;
            _started = segment;
        }
        FileStream? file = null;
        if (prepared is { } ready)
        {
            if (ready.Segment == segment)
            {
                try
                {
                    // Renamed, not synced: the fsync thread syncs the directory before answering anything in it.
                    File.Move(PreparedPath(segment), path);
                    file = ready.File;
                }
                catch (IOException)
                {
                }
            }
            if (file is null)
            {
                ready.File.Dispose();
                TryDelete(PreparedPath(ready.Segment));
            }
        }
        if (file is null)
        {
            StartingUnpreparedSegment?.Invoke(segment);
        }
        if (file is null && DirectIo.TryOpen(path, createNew: true) is { } direct)
        {
            file = new FileStream(direct, FileAccess.ReadWrite, bufferSize: 0);
        }
        if (file is null)
        {
            // No direct I/O here (tmpfs, another OS): through the page cache.
            var create = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
            };
            if (!OperatingSystem.IsWindows())
            {
                // Deliveries' bodies: readable by the receiver's user only (as a prepared segment is).
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            file = new FileStream(path, create);
        }
        lock (_sync)
        {
            _file?.Dispose();
            _file = file;
            _segment = segment;
            _length = 0;
            _dirty = false;
            // The new file's directory entry must survive a crash too.
            _directoryDirty = true;
        }
    }

    private string PreparedPath(long segment) =>
        Path.Combine(_directory, segment.ToString("D12", CultureInfo.InvariantCulture) + PreparedExtension);

    /// <summary>Starts filling the next segment with zeros on a thread of its own (unless the last one is still at it).</summary>
    private void PrepareNext(long segment)
    {
        if (_disposed || _preparing >= segment || _preparer is { IsAlive: true })
        {
            return;
        }
        _preparing = segment;
        _preparer = new Thread(() => Prepare(segment)) { IsBackground = true, Name = "inbox-log-prepare" };
        _preparer.Start();
    }

    private void Prepare(long segment)
    {
        var path = PreparedPath(segment);
        FileStream? file = null;
        var handedOver = false;
        try
        {
            // A spare (a used segment whose records were all erased) is already zeros on allocated
            // blocks: renamed, it is ready without a write. Otherwise the zeros go straight to the disk
            // (O_DIRECT): written through the page cache they cost as much CPU as the deliveries' own
            // bodies (a copy into freshly allocated pages, then writeback), taken from the request
            // threads on a small pod. Where the file system has no direct I/O (tmpfs) nothing is
            // prepared: there is no journal commit to save either.
            if (!TakeSpare(path) && !ZeroFill.TryWrite(path, _segmentBytes, ZeroChunk, ZeroSyncEvery, () => _disposed))
            {
                return;
            }
            file = DirectIo.OpenExisting(path);
            lock (_sync)
            {
                if (!_disposed && _started < segment)
                {
                    _prepared = (file, segment);
                    handedOver = true;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only an optimisation: the rollover creates a plain new file instead.
        }
        finally
        {
            if (!handedOver)
            {
                // Too late (the writer started the segment with a new file) or failed: from here on the
                // file is the writer's only when handed over, so it is deleted here otherwise.
                file?.Dispose();
                TryDelete(path);
            }
        }
    }

    /// <summary>For tests: called on the writer when it starts a segment with a new file because none was prepared for it.</summary>
    internal Action<long>? StartingUnpreparedSegment { get; set; }

    /// <summary>For tests: waits until the thread preparing the next segment (if any) has finished.</summary>
    internal void WaitForPreparer() => _preparer?.Join();

    private void SyncDirectory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var fd = FileSync.Open(_directory, FileSync.ReadOnlyDirectory);
        if (fd >= 0)
        {
            _ = FileSync.Fsync(fd);
            _ = FileSync.Close(fd);
        }
    }
}

/// <summary>
/// fdatasync of a file (its data and the size, without an inode timestamp flush that costs a
/// journal commit per call), and fsync of a directory so a new file's name is as durable as its
/// data. Linux only; .NET has neither. Elsewhere <see cref="DataSync"/> falls back to a full fsync.
/// </summary>
internal static partial class FileSync
{
    /// <summary>An existing file opened only to be synced (no buffer; others keep writing, renaming, deleting it).</summary>
    public static FileStream OpenForSync(string path) =>
        new(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

    /// <summary>Makes everything written to <paramref name="file"/> durable.</summary>
    public static void DataSync(FileStream file)
    {
        if (!OperatingSystem.IsLinux())
        {
            file.Flush(flushToDisk: true);
            return;
        }
        DataSync(file.SafeFileHandle);
    }

    /// <summary>fdatasync of a file opened as a handle (Linux only).</summary>
    public static void DataSync(SafeFileHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Fdatasync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fdatasync failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    private static partial int Fdatasync(int fd);

    public const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "open", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    public static partial int Open(string path, int flags);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fsync")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    public static partial int Fsync(int fd);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "close")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    public static partial int Close(int fd);
}

/// <summary>
/// Reads bodies from the inbox log, keeping a few segment files open. Events are read in order,
/// so when reading moves on to a newer segment the older ones are done with: their pages are
/// dropped from the page cache (they were synced when the next segment started) instead of
/// crowding out data that is read again.
/// </summary>
public sealed class InboxLogReader : IDisposable
{
    private const int MaxOpen = 4;
    private readonly string _directory;
    private readonly Dictionary<long, SafeFileHandle> _open = [];
    private readonly bool _dropPassedSegments;

    public InboxLogReader(string dataDirectory, bool dropPassedSegments = false)
    {
        _directory = Path.Combine(dataDirectory, InboxLog.DirectoryName);
        _dropPassedSegments = dropPassedSegments;
    }

    private readonly byte[] _header = new byte[InboxLog.HeaderBytes];

    /// <summary>The body, or null when the segment or the record is missing or damaged.</summary>
    public byte[]? Read(long segment, long offset, int length, long seq) =>
        Handle(segment) is { } handle ? InboxLog.Read(handle, offset, length, seq) : null;

    /// <summary>Reads the body into <paramref name="body"/> (exactly its length); false when the segment or the record is missing or damaged.</summary>
    public bool TryRead(long segment, long offset, Memory<byte> body, long seq) =>
        Handle(segment) is { } handle && InboxLog.TryRead(handle, offset, body, _header, seq);

    private SafeFileHandle? Handle(long segment)
    {
        if (!_open.TryGetValue(segment, out var handle))
        {
            try
            {
                handle = File.OpenHandle(InboxLog.SegmentPath(_directory, segment), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
            if (_dropPassedSegments && _open.Count > 0 && segment > _open.Keys.Max())
            {
                foreach (var passed in _open.Keys.ToList())
                {
                    _open.Remove(passed, out var done);
                    PageCache.Drop(done!);
                    done!.Dispose();
                }
            }
            else if (_open.Count == MaxOpen)
            {
                var oldest = _open.Keys.Min();
                _open.Remove(oldest, out var closed);
                closed?.Dispose();
            }
            _open[segment] = handle;
        }
        return handle;
    }

    public void Dispose()
    {
        foreach (var handle in _open.Values)
        {
            handle.Dispose();
        }
        _open.Clear();
    }
}

/// <summary>posix_fadvise(DONTNEED) on Linux: drops a file's clean pages from the page cache.</summary>
internal static partial class PageCache
{
    private const int DontNeed = 4;

    public static void Drop(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            _ = Advise((int)file.DangerousGetHandle(), 0, 0, DontNeed);
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "posix_fadvise")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    private static partial int Advise(int fd, long offset, long length, int advice);
}

/// <summary>A record of the inbox log: the row it stands for, where its body is and where the record ends.</summary>
public sealed record LogRecord(long Seq, string EventId, string Action, long ReceivedAtMs, long Segment, long Offset, int BodyLength, long End)
{
    /// <summary>When this process wrote (or found) the record: rows wait at most a short while before they are inserted.</summary>
    public long SeenAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
}
