using System.Text;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Tests;

/// <summary>The inbox log that holds delivery bodies, and what the inbox does with it across restarts.</summary>
public sealed class InboxLogTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ghr-log-").FullName;

    public void Dispose() => TempFolders.Delete(_root);

    private string LogDirectory => Path.Combine(_root, "data", InboxLog.DirectoryName);

    private static byte[] Body(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Where a segment's records end: its last byte that is not zero (a checksum's last bytes may be zeros; cutting 60 before still tears the record).</summary>
    private static int EndOfRecords(byte[] segment) => Array.FindLastIndex(segment, b => b != 0) + 1;

    [Fact]
    public void Records_written_in_one_batch_read_back_and_damage_is_detected()
    {
        using var log = new InboxLog(Path.Combine(_root, "data"));
        log.Open();
        var first = log.NextPosition();
        var firstLength = log.Stage(7, Body("""{"action":"a"}"""), "e7", "a", 0);
        var second = log.NextPosition();
        log.Stage(8, Body("""{"action":"b"}"""), "e8", "b", 0);
        log.WriteStaged();
        log.Sync();
        Assert.Equal(first.Segment, second.Segment);
        // Header, body, then the metadata: arrival time, id and action lengths, "e7", "a", checksum.
        Assert.Equal(InboxLog.HeaderBytes + 14 + 8 + 2 + 2 + 2 + 1 + 4, firstLength);
        Assert.Equal(first.Offset + firstLength, second.Offset);

        using (var reader = new InboxLogReader(Path.Combine(_root, "data")))
        {
            Assert.Equal("""{"action":"a"}""", Encoding.UTF8.GetString(reader.Read(first.Segment, first.Offset, 14, 7)!));
            Assert.Equal("""{"action":"b"}""", Encoding.UTF8.GetString(reader.Read(second.Segment, second.Offset, 14, 8)!));
            // Another record's seq, a wrong length, a missing segment: not that record.
            Assert.Null(reader.Read(first.Segment, first.Offset, 14, 8));
            Assert.Null(reader.Read(first.Segment, first.Offset, 13, 7));
            Assert.Null(reader.Read(first.Segment + 5, 0, 14, 7));
        }

        // One flipped byte in the body fails the checksum; a cut-off record is missing.
        var path = InboxLog.SegmentPath(LogDirectory, first.Segment);
        var bytes = File.ReadAllBytes(path);
        bytes[first.Offset + InboxLog.HeaderBytes + 3] ^= 0x20;
        File.WriteAllBytes(path, bytes[..(int)(second.Offset + InboxLog.HeaderBytes + 9)]);
        using (var reader = new InboxLogReader(Path.Combine(_root, "data")))
        {
            Assert.Null(reader.Read(first.Segment, first.Offset, 14, 7));
            Assert.Null(reader.Read(second.Segment, second.Offset, 14, 8));
        }
    }

    [Fact]
    public void Each_group_starts_on_a_4_KiB_boundary_after_zeros_and_recovery_walks_over_them()
    {
        // Direct I/O writes whole aligned blocks, and a group never rewrites a block an earlier one
        // wrote: every group write ends with zeros up to a 4 KiB boundary and the next starts there.
        var data = Path.Combine(_root, "data");
        var positions = new List<(long Segment, long Offset)>();
        var bodies = new List<byte[]>();
        using (var log = new InboxLog(data))
        {
            log.Open();
            var path = InboxLog.SegmentPath(LogDirectory, log.CurrentSegment);
            for (var group = 0; group < 5; group++)
            {
                var groupEnd = 0L;
                for (var i = 0; i <= group; i++)
                {
                    var seq = positions.Count + 1;
                    var body = Body($$"""{"action":"update_candidate","n":{{seq}},"pad":"{{new string('p', 700 * seq)}}"}""");
                    var position = log.NextPosition();
                    // The group's first record on a boundary, the others right after the record before.
                    Assert.Equal(i == 0 ? 0 : groupEnd, i == 0 ? position.Offset % InboxLog.GroupAlignment : position.Offset);
                    positions.Add(position);
                    bodies.Add(body);
                    groupEnd = position.Offset + log.Stage(seq, body, $"e{seq}", "update_candidate", 0);
                }
                log.WriteStaged();
                var bytes = File.ReadAllBytes(path);
                Assert.Equal(0, bytes.Length % InboxLog.GroupAlignment);
                Assert.Equal(0, log.NextPosition().Offset % InboxLog.GroupAlignment);
                Assert.InRange(log.NextPosition().Offset - groupEnd, 0, InboxLog.GroupAlignment - 1);
                Assert.All(bytes[(int)groupEnd..], b => Assert.Equal(0, b));
            }
            log.Sync();
        }
        using (var reader = new InboxLogReader(data))
        {
            for (var i = 0; i < positions.Count; i++)
            {
                Assert.Equal(bodies[i], reader.Read(positions[i].Segment, positions[i].Offset, bodies[i].Length, i + 1));
            }
        }
        // Rebuilding rows from the log finds every record across the zeros between groups, from the
        // segment's start or from a saved position in the zeros after a group.
        var found = InboxLog.Recover(data, positions[0].Segment, 0, 0);
        Assert.Equal(Enumerable.Range(1, positions.Count).Select(i => (long)i), found.Select(r => r.Seq));
        Assert.Equal(positions.Select(p => p.Offset), found.Select(r => r.Offset));
        var afterFirstGroup = InboxLog.Recover(data, positions[0].Segment, found[0].End, 1);
        Assert.Equal(Enumerable.Range(2, positions.Count - 1).Select(i => (long)i), afterFirstGroup.Select(r => r.Seq));
    }

    [Fact]
    public void Recovery_stops_at_a_torn_record_and_does_not_skip_over_it_to_a_later_group()
    {
        var data = Path.Combine(_root, "data");
        var positions = new List<(long Segment, long Offset)>();
        using (var log = new InboxLog(data))
        {
            log.Open();
            for (var seq = 1; seq <= 4; seq++)
            {
                positions.Add(log.NextPosition());
                log.Stage(seq, Body($$"""{"action":"update_candidate","n":{{seq}},"pad":"{{new string('p', 1500)}}"}"""), $"e{seq}", "update_candidate", 0);
                if (seq % 2 == 0)
                {
                    log.WriteStaged();
                }
            }
            log.Sync();
        }
        var path = InboxLog.SegmentPath(LogDirectory, positions[0].Segment);
        Assert.Equal(4, InboxLog.Recover(data, positions[0].Segment, 0, 0).Count);

        // A flipped byte in the second record's body: the first record only, not the next group's two.
        var original = File.ReadAllBytes(path);
        var bytes = original.ToArray();
        bytes[positions[1].Offset + InboxLog.HeaderBytes + 100] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        Assert.Equal([1L], InboxLog.Recover(data, positions[0].Segment, 0, 0).Select(r => r.Seq));

        // The second record's header zeroed with its body still there: not the zeros after a group, so the end too.
        bytes = original.ToArray();
        Array.Clear(bytes, (int)positions[1].Offset, InboxLog.HeaderBytes);
        File.WriteAllBytes(path, bytes);
        Assert.Equal([1L], InboxLog.Recover(data, positions[0].Segment, 0, 0).Select(r => r.Seq));

        // The second group's first block never reached the disk: zeros at a boundary end the log.
        Assert.Equal(0, positions[2].Offset % InboxLog.GroupAlignment);
        bytes = original.ToArray();
        Array.Clear(bytes, (int)positions[2].Offset, InboxLog.GroupAlignment);
        File.WriteAllBytes(path, bytes);
        Assert.Equal([1L, 2L], InboxLog.Recover(data, positions[0].Segment, 0, 0).Select(r => r.Seq));
    }

    [Fact]
    public void Erasing_zeros_whole_records_in_one_run_and_leaves_a_neighbour_waiting_for_a_retry_readable()
    {
        var data = Path.Combine(_root, "data");
        var records = new List<(long Segment, long Offset, int Length, long Seq, string Id)>();
        using (var log = new InboxLog(data))
        {
            log.Open();
            // Two groups of three records each, with the zeros after the first group between them.
            for (var seq = 1; seq <= 6; seq++)
            {
                var (segment, offset) = log.NextPosition();
                var body = Body($$"""{"action":"update_candidate","email":"person{{seq}}@example.com","pad":"{{new string('p', 1700)}}"}""");
                log.Stage(seq, body, $"event-{seq}", "update_candidate", 1_700_000_000_000 + seq);
                records.Add((segment, offset, body.Length, seq, $"event-{seq}"));
                if (seq % 3 == 0)
                {
                    log.WriteStaged();
                }
            }
            log.Sync();
        }
        var path = InboxLog.SegmentPath(LogDirectory, records[0].Segment);
        var before = File.ReadAllBytes(path);

        // Every record but the fourth (it waits for a retry) was processed.
        using (var eraser = new InboxLogEraser(data))
        {
            eraser.Erase(records.Where(r => r.Seq != 4).Select(r => new ErasableRecord(r.Segment, r.Offset, r.Length, r.Seq, InboxLog.MetadataLength(r.Id, "update_candidate"))));
        }
        var after = File.ReadAllBytes(path);
        Assert.Equal(before.Length, after.Length);
        var fourth = records[3];
        var fourthEnd = (int)fourth.Offset + InboxLog.HeaderBytes + fourth.Length + InboxLog.MetadataLength(fourth.Id, "update_candidate");
        // The fourth record is byte for byte what it was; everything else (headers, bodies, event ids, padding) is zeros.
        Assert.Equal(before[(int)fourth.Offset..fourthEnd], after[(int)fourth.Offset..fourthEnd]);
        Assert.True(after[..(int)fourth.Offset].All(b => b == 0));
        Assert.True(after[fourthEnd..].All(b => b == 0));
        Assert.DoesNotContain("event-5", Encoding.UTF8.GetString(after), StringComparison.Ordinal);
        using (var reader = new InboxLogReader(data))
        {
            Assert.Contains("person4@example.com", Encoding.UTF8.GetString(reader.Read(fourth.Segment, fourth.Offset, fourth.Length, 4)!), StringComparison.Ordinal);
            Assert.Null(reader.Read(records[4].Segment, records[4].Offset, records[4].Length, 5));
        }

        // A header that does not say the metadata length the row implies (a record of the first version
        // has no metadata at all): only header and body go, never the bytes after them.
        File.WriteAllBytes(path, before);
        var third = records[2];
        using (var eraser = new InboxLogEraser(data))
        {
            eraser.Erase([new ErasableRecord(third.Segment, third.Offset, third.Length, third.Seq, InboxLog.MetadataLength(third.Id, "update_candidate") + 1)]);
        }
        after = File.ReadAllBytes(path);
        var thirdCore = (int)third.Offset + InboxLog.HeaderBytes + third.Length;
        Assert.True(after[(int)third.Offset..thirdCore].All(b => b == 0));
        Assert.Equal(before[thirdCore..], after[thirdCore..]);
    }

    [Fact]
    public void Segments_are_written_with_direct_io_where_the_file_system_has_it()
    {
        var data = Path.Combine(_root, "data");
        using var log = new InboxLog(data);
        log.Open();
        var body = Body("""{"action":"update_candidate"}""");
        var at = log.NextPosition();
        log.Stage(1, body, "e1", "update_candidate", 0);
        log.WriteStaged();
        log.Sync();
        var segment = InboxLog.SegmentPath(LogDirectory, log.CurrentSegment);
        // What the kernel says about the receiver's open file, not what the log says about itself.
        var flags = OpenFlags(segment);
        if (OperatingSystem.IsLinux() && DirectIoProbe(Path.Combine(_root, "probe")))
        {
            Assert.True(log.WritesDirect);
            Assert.True(flags is { } f && (f & DirectFlag) != 0, $"segment open with flags {flags:x}, O_DIRECT not among them");
        }
        else
        {
            Assert.False(log.WritesDirect);
        }
        using var reader = new InboxLogReader(data);
        Assert.Equal(body, reader.Read(at.Segment, at.Offset, body.Length, 1));
    }

    private static int DirectFlag => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture
        is System.Runtime.InteropServices.Architecture.X64 ? 0x4000 : 0x10000;

    /// <summary>Whether a file in <paramref name="path"/>'s folder can be opened for direct I/O, asked of the kernel with an open of its own.</summary>
    private static bool DirectIoProbe(string path)
    {
        using var probe = DirectIo.TryOpen(path, createNew: true);
        File.Delete(path);
        return probe is not null;
    }

    /// <summary>The open flags (from /proc/self/fdinfo) of this process's file descriptor for <paramref name="path"/>, or null.</summary>
    private static int? OpenFlags(string path)
    {
        if (!Directory.Exists("/proc/self/fd"))
        {
            return null;
        }
        foreach (var link in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(link).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }
            if (target == path)
            {
                var line = File.ReadLines(Path.Combine("/proc/self/fdinfo", Path.GetFileName(link))).First(l => l.StartsWith("flags:", StringComparison.Ordinal));
                return Convert.ToInt32(line["flags:".Length..].Trim(), 8);
            }
        }
        return null;
    }

    [Fact]
    public void A_batch_of_large_bodies_is_written_in_parts_and_reads_back_whole()
    {
        using var log = new InboxLog(Path.Combine(_root, "data"));
        log.Open();
        var bodies = Enumerable.Range(1, 4).Select(i => Enumerable.Repeat((byte)('a' + i), 3 * 1024 * 1024).ToArray()).ToList();
        var positions = new List<(long Segment, long Offset)>();
        for (var i = 0; i < bodies.Count; i++)
        {
            positions.Add(log.NextPosition());
            log.Stage(i + 1, bodies[i], $"e{i + 1}", "update_candidate", 0);
        }
        log.WriteStaged();
        using var reader = new InboxLogReader(Path.Combine(_root, "data"));
        for (var i = 0; i < bodies.Count; i++)
        {
            Assert.Equal(bodies[i], reader.Read(positions[i].Segment, positions[i].Offset, bodies[i].Length, i + 1));
        }
    }

    [Fact]
    public async Task A_full_segment_rolls_over_and_unused_segments_are_deleted_but_never_the_current_one()
    {
        using var log = new InboxLog(Path.Combine(_root, "data"), segmentBytes: 100);
        log.Open();
        var positions = new List<(long Segment, long Offset)>();
        for (var seq = 1; seq <= 4; seq++)
        {
            positions.Add(log.NextPosition());
            log.Stage(seq, new byte[80], $"e{seq}", "update_candidate", 0);
            log.WriteStaged();
        }
        Assert.Equal(4, positions.Select(p => p.Segment).Distinct().Count());
        Assert.All(positions, p => Assert.Equal(0, p.Offset));
        Assert.Equal(4, InboxLog.ListSegments(LogDirectory).Count());

        // The processor's reader drops passed segments from the page cache; reading one again still works.
        using (var reader = new InboxLogReader(Path.Combine(_root, "data"), dropPassedSegments: true))
        {
            foreach (var seq in new[] { 1, 2, 3, 1, 4 })
            {
                var (segment, offset) = positions[seq - 1];
                Assert.Equal(new byte[80], reader.Read(segment, offset, 80, seq));
            }
        }

        Assert.Equal(2, log.DeleteSegmentsBelow(positions[2].Segment));
        Assert.Equal([positions[2].Segment, positions[3].Segment], InboxLog.ListSegments(LogDirectory).Order());
        log.DeleteSegmentsBelow(long.MaxValue);
        Assert.Equal([log.CurrentSegment], InboxLog.ListSegments(LogDirectory));
        // Retired segments are renamed at once (NNN.trash) and deleted gradually, soon.
        await Eventually.TrueAsync(() => !Directory.EnumerateFiles(LogDirectory, "*.trash").Any(), "the retired segments are deleted");
        Assert.Equal(InboxLog.SegmentPath(LogDirectory, log.CurrentSegment), Assert.Single(Directory.EnumerateFiles(LogDirectory, "*.seg")));
    }

    [Fact]
    public void A_segment_prepared_too_late_is_deleted_and_never_used_for_the_next_segment()
    {
        // The race: the writer rolls over while the preparer is still zero-filling the new segment, so
        // it creates the segment itself; the preparer finishes just then. Its file must not wait to be
        // taken at the following rollover, whose records would go into a file named for the wrong
        // segment (lost once it is deleted as a leftover) while the right name held only zeros.
        var windowHit = false;
        for (var attempt = 0; attempt < 200 && !windowHit; attempt++)
        {
            var data = Path.Combine(_root, $"data{attempt}");
            using var log = new InboxLog(data, segmentBytes: 100);
            log.Open();
            log.Stage(1, new byte[80], "e1", "update_candidate", 0);
            log.WriteStaged(); // starts preparing the next segment
            var first = log.CurrentSegment;
            log.StartingUnpreparedSegment = segment =>
            {
                // The writer found nothing prepared and is about to create the segment: let the preparer finish now.
                windowHit = true;
                log.WaitForPreparer();
            };
            var second = log.NextPosition().Segment;
            log.StartingUnpreparedSegment = null;
            Assert.Equal(first + 1, second);
            if (!windowHit)
            {
                continue; // the preparer won the race this time: the writer used its file as it should
            }
            Assert.False(log.NextSegmentReady, "a file prepared for a segment already started waits to be used");
            var logDirectory = Path.Combine(data, InboxLog.DirectoryName);
            Assert.Empty(Directory.EnumerateFiles(logDirectory, "*.next"));

            log.Stage(2, new byte[80], "e2", "update_candidate", 0);
            log.WriteStaged(); // prepares the third segment
            log.WaitForPreparer();
            var (third, offset) = log.NextPosition();
            Assert.Equal(second + 1, third);
            log.Stage(3, new byte[80], "e3", "update_candidate", 0);
            log.WriteStaged();
            using var reader = new InboxLogReader(data);
            Assert.Equal(new byte[80], reader.Read(third, offset, 80, 3));
            Assert.Equal([first, second, third], InboxLog.ListSegments(logDirectory).Order());
        }
        Assert.True(windowHit, "the writer never rolled over before the preparer finished in 200 attempts");
    }

    [Fact]
    public async Task A_segment_whose_records_were_all_erased_is_reused_for_a_later_one_and_one_with_a_record_left_is_deleted()
    {
        const int segmentBytes = 64 * 1024;
        var data = Path.Combine(_root, "data");
        // Two records a group, three blocks: a segment ends at 72 KiB, past the 64 KiB a prepared one has.
        var body = new byte[5000];
        Array.Fill(body, (byte)'x');
        var records = new List<ErasableRecord>();
        using var log = new InboxLog(data, segmentBytes);
        log.Open();
        void WriteGroup()
        {
            for (var i = 0; i < 2; i++)
            {
                var seq = records.Count + 1;
                var (segment, offset) = log.NextPosition();
                log.Stage(seq, body, $"e{seq}", "update_candidate", 0);
                records.Add(new ErasableRecord(segment, offset, body.Length, seq, InboxLog.MetadataLength($"e{seq}", "update_candidate")));
            }
            log.WriteStaged();
        }
        var first = log.CurrentSegment;
        while (log.NextPosition().Segment == first)
        {
            WriteGroup();
        }
        var second = log.CurrentSegment;
        while (log.NextPosition().Segment == second)
        {
            WriteGroup();
        }
        var third = log.CurrentSegment;
        log.Sync();
        var firstLength = new FileInfo(InboxLog.SegmentPath(LogDirectory, first)).Length;
        Assert.True(firstLength > segmentBytes, $"{firstLength} bytes");

        // Every record of the first segment was processed and erased; one of the second waits for a retry.
        var waiting = records.First(r => r.Segment == second).Seq + 1;
        using (var eraser = new InboxLogEraser(data))
        {
            foreach (var (segment, count) in eraser.Erase(records.Where(r => r.Segment != third && r.Seq != waiting)))
            {
                log.MarkErased(segment, count);
            }
        }
        Assert.Equal(2, log.DeleteSegmentsBelow(third));
        Assert.Equal([third], InboxLog.ListSegments(LogDirectory));
        var spare = Path.Combine(LogDirectory, $"{first:D12}.spare");
        Assert.True(File.ReadAllBytes(spare).All(b => b == 0), "the kept segment is all zeros");
        Assert.Equal([spare], Directory.EnumerateFiles(LogDirectory, "*.spare"));

        // A quarter into the third segment the next one is prepared: from the spare (its length, not a new segment's), with no zeros written.
        while (!log.NextSegmentReady)
        {
            WriteGroup();
            await Task.Delay(10);
        }
        Assert.Equal(firstLength, new FileInfo(Path.Combine(LogDirectory, $"{third + 1:D12}.next")).Length);
        Assert.False(File.Exists(spare));

        // Written over, the reused segment reads back what was written there, and rebuilding rows from it finds exactly that.
        while (log.NextPosition().Segment == third)
        {
            WriteGroup();
        }
        var reusedFrom = records.Count + 1;
        WriteGroup();
        log.Sync();
        Assert.Equal(third + 1, log.CurrentSegment);
        Assert.Equal([reusedFrom, reusedFrom + 1], InboxLog.Recover(data, third + 1, 0, 0).Select(r => r.Seq));
        using var reader = new InboxLogReader(data);
        Assert.Equal(body, reader.Read(third + 1, records[^1].Offset, body.Length, records[^1].Seq));
    }

    [Fact]
    public void Recovery_stops_at_a_record_older_than_the_one_before_it()
    {
        // What a reused segment may hold past its new end when erasures never reached the disk: older records.
        var data = Path.Combine(_root, "data");
        using var log = new InboxLog(data);
        log.Open();
        foreach (var seq in new long[] { 5, 6, 1, 2 })
        {
            log.Stage(seq, Body($$"""{"n":{{seq}}}"""), $"e{seq}", "update_candidate", 0);
            if (seq % 2 == 0)
            {
                log.WriteStaged();
            }
        }
        log.Sync();
        Assert.Equal([5L, 6L], InboxLog.Recover(data, log.CurrentSegment, 0, 0).Select(r => r.Seq));
    }

    [Fact]
    public async Task The_rollover_moves_into_a_segment_prepared_ahead_with_zeros_and_leftovers_go_at_the_next_open()
    {
        const int segmentBytes = 64 * 1024;
        var body = new byte[4000];
        Array.Fill(body, (byte)'x');
        var positions = new List<(long Segment, long Offset)>();
        using (var log = new InboxLog(Path.Combine(_root, "data"), segmentBytes))
        {
            log.Open();
            var first = log.CurrentSegment;
            // A quarter full: the next segment is prepared on a thread of its own.
            for (var seq = 1; (seq - 1) * (body.Length + InboxLog.HeaderBytes) < segmentBytes / 4 + 1; seq++)
            {
                positions.Add(log.NextPosition());
                log.Stage(seq, body, $"e{seq}", "update_candidate", 0);
                log.WriteStaged();
            }
            // Zeros are written with direct I/O; a file system without it (tmpfs) gets plain new segments instead.
            var direct = ZeroFill.TryWrite(Path.Combine(_root, "probe"), 4096, 4096, 4096, () => false);
            if (direct)
            {
                await Eventually.TrueAsync(() => log.NextSegmentReady, "the next segment is prepared");
                var prepared = new FileInfo(Path.Combine(LogDirectory, $"{first + 1:D12}.next"));
                Assert.Equal(segmentBytes, prepared.Length);
                if (!OperatingSystem.IsWindows())
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, prepared.UnixFileMode);
                }
            }
            else
            {
                await Task.Delay(200);
                Assert.False(log.NextSegmentReady);
                Assert.Empty(Directory.EnumerateFiles(LogDirectory, "*.next"));
            }
            Assert.Equal([first], InboxLog.ListSegments(LogDirectory));

            while (log.NextPosition().Segment == first)
            {
                positions.Add(log.NextPosition());
                log.Stage(positions.Count, body, $"e{positions.Count}", "update_candidate", 0);
                log.WriteStaged();
            }
            positions.Add(log.NextPosition());
            log.Stage(positions.Count, body, $"e{positions.Count}", "update_candidate", 0);
            log.WriteStaged();
            // The old segment's tail, the new segment and its directory entry are synced by the fsync thread's next call.
            log.Sync();
            Assert.Equal(first + 1, log.CurrentSegment);
            Assert.Equal([first, first + 1], InboxLog.ListSegments(LogDirectory).Order());
            var current = new FileInfo(InboxLog.SegmentPath(LogDirectory, first + 1));
            // A group's write ends on a page boundary (zeros after its last record), so a file that was not prepared is whole pages too.
            Assert.True(direct ? current.Length == segmentBytes : current.Length % 4096 == 0 && current.Length > body.Length, $"{current.Length} bytes");
            if (!OperatingSystem.IsWindows())
            {
                // Bodies of deliveries: the receiver's user only, whether the segment was prepared or created at the rollover.
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, current.UnixFileMode);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, new FileInfo(InboxLog.SegmentPath(LogDirectory, first)).UnixFileMode);
            }
            using var reader = new InboxLogReader(Path.Combine(_root, "data"));
            for (var i = 0; i < positions.Count; i++)
            {
                Assert.Equal(body, reader.Read(positions[i].Segment, positions[i].Offset, body.Length, i + 1));
            }
            // Past the last record the prepared file holds zeros: a record that never got there reads as missing.
            Assert.Null(reader.Read(first + 1, body.Length + InboxLog.HeaderBytes, body.Length, positions.Count + 1));
        }
        // A segment prepared but never used (the process stopped before the rollover) is deleted when the log opens again.
        await File.WriteAllBytesAsync(Path.Combine(LogDirectory, "000000000099.next"), new byte[16]);
        using (var log = new InboxLog(Path.Combine(_root, "data"), segmentBytes))
        {
            log.Open();
            Assert.Empty(Directory.EnumerateFiles(LogDirectory, "*.next"));
            // Renamed at once, deleted a few MiB at a time on a thread of the log's own.
            await Eventually.TrueAsync(() => !Directory.EnumerateFiles(LogDirectory, "*.trash").Any(), "the leftover is deleted");
        }
    }

    [Fact]
    public async Task A_row_whose_body_in_the_segment_before_the_newest_did_not_reach_the_disk_is_dropped_on_restart()
    {
        // The segment before the newest is synced by the fsync thread after the rollover: a crash
        // in between can leave its tail unwritten while rows pointing into it are on disk.
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("a", ProcessorHarness.Update(1, "a@example.com")));
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("b", ProcessorHarness.Update(2, "b@example.com")));
        }
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("c", ProcessorHarness.Update(3, "c@example.com")));
        }
        var segments = InboxLog.ListSegments(LogDirectory).Order().ToList();
        Assert.Equal(2, segments.Count);
        var older = InboxLog.SegmentPath(LogDirectory, segments[0]);
        var bytes = await File.ReadAllBytesAsync(older);
        // The record's metadata (after the body) and the end of its body (the zeros after it are the write's padding to a page end).
        await File.WriteAllBytesAsync(older, bytes[..(EndOfRecords(bytes) - 60)]);

        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(["a", "c"], EventIds(h));
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("b", ProcessorHarness.Update(2, "b@example.com")));
            await h.ProcessAsync();
            Assert.Equal(3, h.Mirror.Count);
        }
    }

    [Fact]
    public async Task A_row_whose_body_did_not_reach_the_disk_is_dropped_on_restart_so_the_redelivery_is_accepted()
    {
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("a", ProcessorHarness.Update(1, "a@example.com")));
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("b", ProcessorHarness.Update(2, "b@example.com")));
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("c", ProcessorHarness.Update(3, "c@example.com")));
        }
        // A crash after the rows reached the disk but before the tail of the log did.
        var segment = InboxLog.SegmentPath(LogDirectory, InboxLog.ListSegments(LogDirectory).Max());
        var bytes = File.ReadAllBytes(segment);
        // The record's metadata (after the body) and the end of its body (the zeros after it are the write's padding to a page end).
        File.WriteAllBytes(segment, bytes[..(EndOfRecords(bytes) - 60)]);

        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(["a", "b"], EventIds(h));
            Assert.Equal(InboxWriteResult.Duplicate, await h.StoreAsync("a", ProcessorHarness.Update(1, "a@example.com")));
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("c", ProcessorHarness.Update(3, "c@example.com")));
            await h.ProcessAsync();
            Assert.Equal(3, h.Mirror.Count);
            Assert.Equal(3, h.Metrics.Processed);
            Assert.Equal(0, h.Metrics.Failed);
        }
    }

    [Fact]
    public async Task Deliveries_whose_rows_the_database_lost_are_rebuilt_from_the_log_and_applied_once()
    {
        var data = Path.Combine(_root, "data");
        var before = Path.Combine(_root, "before");
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("a", ProcessorHarness.Update(1, "a@example.com")));
            await h.ProcessAsync();
        }
        // The database as it was on disk then: a power loss later drops every commit after it.
        Directory.CreateDirectory(before);
        foreach (var file in Directory.EnumerateFiles(data, ReceiverDatabase.FileName + "*"))
        {
            File.Copy(file, Path.Combine(before, Path.GetFileName(file)));
        }
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            // Answered 200: their records are synced in the log; their rows are SQLite commits never synced.
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("b", ProcessorHarness.Update(2, "b@example.com")));
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("c", """{"action":"delete_candidate","payload":{"person":{"id":1}}}"""));
        }
        foreach (var file in Directory.EnumerateFiles(data, ReceiverDatabase.FileName + "*"))
        {
            File.Delete(file);
        }
        foreach (var file in Directory.EnumerateFiles(before))
        {
            File.Copy(file, Path.Combine(data, Path.GetFileName(file)));
        }

        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(["a", "b", "c"], EventIds(h));
            // Rebuilt with their ids: Greenhouse's retries are duplicates, not new events.
            Assert.Equal(InboxWriteResult.Duplicate, await h.StoreAsync("b", ProcessorHarness.Update(2, "b@example.com")));
            Assert.Equal(2, await h.ProcessAsync());
            Assert.NotNull(h.Mirror.Get(2));
            Assert.Null(h.Mirror.Get(1));
            Assert.Equal(0, h.Metrics.Failed);
            // A new delivery gets a seq after the rebuilt ones.
            Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("d", ProcessorHarness.Update(4, "d@example.com")));
            Assert.Equal(1, await h.ProcessAsync());
            Assert.Equal(["a", "b", "c", "d"], EventIds(h));
        }
        // Opened again, nothing is rebuilt twice.
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(["a", "b", "c", "d"], EventIds(h));
            Assert.Equal(0, await h.ProcessAsync());
        }
    }

    [Fact]
    public async Task Pruning_deletes_segments_that_no_stored_event_refers_to()
    {
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            await h.StoreAsync("a", ProcessorHarness.Update(1, "a@example.com"));
            await h.ProcessAsync();
        }
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            // Every open starts a segment of its own.
            await h.StoreAsync("b", ProcessorHarness.Update(2, "b@example.com"));
            Assert.Equal(2, InboxLog.ListSegments(LogDirectory).Count());
            h.Time.Advance(TimeSpan.FromDays(1));
            await h.ProcessAsync();
            h.Time.Advance(TimeSpan.FromDays(6) + TimeSpan.FromMinutes(1));
            // "a" is past retention, "b" is not: the first segment goes, the second stays.
            Assert.Equal(1, await h.Maintenance.PruneAsync(h.Time.GetUtcNow()));
            Assert.Single(InboxLog.ListSegments(LogDirectory));
            Assert.Equal(["b"], EventIds(h));
        }
    }

    [Fact]
    public async Task An_inbox_from_schema_version_2_is_migrated_and_its_stored_bodies_still_processed()
    {
        var data = Path.Combine(_root, "data");
        Directory.CreateDirectory(data);
        using (var db = new SqliteConnection($"Data Source={Path.Combine(data, ReceiverDatabase.FileName)};Pooling=False"))
        {
            db.Open();
            using var command = db.CreateCommand();
            command.CommandText = $"""
                PRAGMA journal_mode = WAL;
                CREATE TABLE inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, action TEXT NOT NULL,
                    received_at INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL DEFAULT 0, processed_at INTEGER, last_error TEXT);
                CREATE INDEX inbox_pending ON inbox(seq) WHERE state = 0;
                CREATE TABLE inbox_bodies (seq INTEGER PRIMARY KEY, body BLOB NOT NULL);
                CREATE INDEX inbox_processed ON inbox(processed_at) WHERE state = 1;
                INSERT INTO inbox(seq, event_id, action, received_at) VALUES (41, 'old-pending', 'update_candidate', 0);
                INSERT INTO inbox_bodies(seq, body) VALUES (41, CAST('{ProcessorHarness.Update(5, "old@example.com")}' AS BLOB));
                -- Numbers up to 60 were used by rows pruned since.
                UPDATE sqlite_sequence SET seq = 60 WHERE name = 'inbox';
                PRAGMA user_version = 2;
                """;
            command.ExecuteNonQuery();
        }

        await using var h = await ProcessorHarness.StartAsync(_root);
        Assert.Equal(InboxWriteResult.Duplicate, await h.StoreAsync("old-pending", ProcessorHarness.Update(5, "old@example.com")));
        Assert.Equal(InboxWriteResult.Accepted, await h.StoreAsync("new", ProcessorHarness.Update(6, "new@example.com")));
        await h.ProcessAsync();
        Assert.NotNull(h.Mirror.Get(5));
        Assert.NotNull(h.Mirror.Get(6));
        using var check = ReceiverDatabase.Open(data, TimeSpan.FromSeconds(1));
        using var seq = check.CreateCommand();
        seq.CommandText = "SELECT seq FROM inbox WHERE event_id = 'new'";
        Assert.Equal(61L, seq.ExecuteScalar());
        seq.CommandText = "SELECT COUNT(*) FROM inbox WHERE state = 1";
        Assert.Equal(2L, seq.ExecuteScalar());
    }

    private static List<string> EventIds(ProcessorHarness h)
    {
        using var db = ReceiverDatabase.Open(h.Options.DataDirectory, TimeSpan.FromSeconds(1));
        using var command = db.CreateCommand();
        command.CommandText = "SELECT event_id FROM inbox ORDER BY seq";
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }
}
