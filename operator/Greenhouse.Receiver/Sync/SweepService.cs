using System.Diagnostics;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Sync;

/// <summary>
/// Repairs what webhooks missed. Every <c>Sync:ResyncInterval</c> an incremental sweep lists the
/// candidates Harvest changed since the persisted watermark minus <c>Sync:Overlap</c>; every
/// <c>Sync:FullResyncInterval</c> a full sweep lists every candidate and also deletes mirror
/// records Harvest no longer has. A record that differs from Harvest is rewritten and counted as
/// drift repaired. The first full sweep (empty state) loads the mirror and runs at start.
/// </summary>
public sealed partial class SweepService : BackgroundService
{
    private const int DeleteChunk = 500;

    private readonly ReceiverOptions _options;
    private readonly HarvestSyncOptions _sync;
    private readonly IHarvestClient _harvest;
    private readonly MirrorStore _store;
    private readonly CandidateMirror _mirror;
    private readonly SyncStatus _status;
    private readonly TimeProvider _time;
    private readonly ILogger<SweepService> _logger;
    private readonly SemaphoreSlim _running = new(1, 1);

    public SweepService(ReceiverOptions options, IHarvestClient harvest, MirrorStore store, CandidateMirror mirror, SyncStatus status,
        TimeProvider time, ILogger<SweepService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _sync = options.Harvest ?? throw new InvalidOperationException("Harvest is not enabled.");
        _harvest = harvest;
        _store = store;
        _mirror = mirror;
        _status = status;
        _time = time;
        _logger = logger;
    }

    /// <summary>Runs one sweep now (waiting for a running one to end). An incremental sweep without a watermark runs as a full one.</summary>
    public async Task<SweepResult> RunAsync(SweepKind kind, CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_store.TryLoad())
            {
                throw new InvalidOperationException("The receiver database cannot be opened.");
            }
            var state = ReadState();
            if (state.Watermark is null)
            {
                kind = SweepKind.Full;
            }
            var started = Stopwatch.GetTimestamp();
            var startedAt = _time.GetUtcNow();
            // Records changed after this point were written by events or hydration during the sweep;
            // a full sweep must not delete them for missing from a listing that started earlier.
            var changeNumberAtStart = _mirror.LastChangeNumber;
            var countDrift = state.LastFullSweepAt is not null;
            var watermark = state.Watermark;
            int examined = 0, repaired = 0, deleted = 0;
            var seen = kind == SweepKind.Full ? new HashSet<long>() : null;
            var pages = kind == SweepKind.Full
                ? _harvest.ListCandidatesAsync(cancellationToken)
                : _harvest.ListCandidatesUpdatedSinceAsync(state.Watermark!.Value - _sync.Overlap, null, cancellationToken);
            await foreach (var page in pages.ConfigureAwait(false))
            {
                var changes = new MirrorBatch();
                var count = 0;
                foreach (var candidate in page)
                {
                    examined++;
                    seen?.Add(candidate.Id);
                    if (watermark is null || candidate.UpdatedAt > watermark)
                    {
                        watermark = candidate.UpdatedAt;
                    }
                    var existing = _mirror.Get(candidate.Id);
                    if (existing is null && _mirror.SurvivorOf(candidate.Id) is not null)
                    {
                        // A page read before the merge was applied: the merged-away record stays away.
                        continue;
                    }
                    var record = HarvestCandidateMapper.Merge(HarvestCandidateMapper.ToRecord(candidate), existing);
                    if (!HarvestCandidateMapper.Same(record, existing))
                    {
                        changes.Apply(new MirrorChange(CandidateChangeKind.Upserted, candidate.Id, record));
                        count++;
                    }
                }
                if (count > 0)
                {
                    await _store.CommitAsync(changes).ConfigureAwait(false);
                    repaired += count;
                }
            }
            if (seen is not null)
            {
                var gone = _mirror.Ids().Where(id => !seen.Contains(id) && _mirror.Get(id) is { } c && c.ChangeNumber <= changeNumberAtStart).ToList();
                foreach (var chunk in gone.Chunk(DeleteChunk))
                {
                    var deletes = new MirrorBatch();
                    foreach (var id in chunk)
                    {
                        deletes.Apply(new MirrorChange(CandidateChangeKind.Deleted, id, null));
                    }
                    await _store.CommitAsync(deletes).ConfigureAwait(false);
                }
                deleted = gone.Count;
                repaired += deleted;
            }
            var finishedAt = _time.GetUtcNow();
            var next = new SyncState(watermark ?? startedAt, finishedAt, kind == SweepKind.Full ? finishedAt : state.LastFullSweepAt);
            var bookkeeping = new MirrorBatch();
            bookkeeping.SaveSyncState(next);
            await _store.CommitAsync(bookkeeping).ConfigureAwait(false);
            var counted = countDrift ? repaired : 0;
            _status.SweepFinished(kind, finishedAt, next.Watermark, counted);
            var result = new SweepResult(kind, examined, counted, deleted, Stopwatch.GetElapsedTime(started));
            LogSwept(_logger, kind, examined, counted, deleted, result.Elapsed.TotalSeconds);
            return result;
        }
        finally
        {
            _running.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        DateTimeOffset? retryAt = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            SyncState state;
            try
            {
                state = ReadState();
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or InvalidOperationException)
            {
                LogStateUnavailable(_logger, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, stoppingToken).ConfigureAwait(false);
                continue;
            }
            _status.Restored(state.LastSweepAt, state.LastFullSweepAt, state.Watermark);
            var now = _time.GetUtcNow();
            var nextFull = state.LastFullSweepAt is { } full ? full + _sync.FullResyncInterval : now;
            var nextIncremental = state.LastSweepAt is { } last ? last + _sync.ResyncInterval : now;
            var due = nextFull < nextIncremental ? nextFull : nextIncremental;
            if (retryAt is { } retry && retry > due)
            {
                due = retry;
            }
            if (due > now)
            {
                await Task.Delay(due - now, _time, stoppingToken).ConfigureAwait(false);
                continue;
            }
            var kind = nextFull <= _time.GetUtcNow() ? SweepKind.Full : SweepKind.Incremental;
            try
            {
                await RunAsync(kind, stoppingToken).ConfigureAwait(false);
                failures = 0;
                retryAt = null;
            }
            // Any failure is retried with backoff; the sweeper must outlive it.
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                var delay = TimeSpan.FromTicks(Math.Min(Math.Min(_options.RetryMaxDelay.Ticks, _sync.ResyncInterval.Ticks),
                    _options.RetryBaseDelay.Ticks * (1L << Math.Min(failures - 1, 30))));
                retryAt = _time.GetUtcNow() + delay;
                _status.SweepFailed($"{ex.GetType().Name}: {ex.Message}");
                LogSweepFailed(_logger, kind, ex.GetType().Name, ex.Message, delay);
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _running.Dispose();
    }

    private SyncState ReadState() => SyncState.Read(_options);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Kind} sweep: {Examined} candidates listed, {Repaired} repaired, {Deleted} deleted in {Seconds:F1} s")]
    private static partial void LogSwept(ILogger logger, SweepKind kind, int examined, int repaired, int deleted, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Kind} sweep failed ({Error}: {Reason}); retrying in {Delay}")]
    private static partial void LogSweepFailed(ILogger logger, SweepKind kind, string error, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the sweep state: {Reason}; retrying")]
    private static partial void LogStateUnavailable(ILogger logger, string reason);
}
