using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Sync;

/// <summary>
/// Serves the hydration queue: fetches due candidates from Harvest, 50 per request, and writes
/// the full records to the mirror (change log and lookup keys included). Candidates Harvest no
/// longer has are deleted. Failures (wrong credentials, missing scope, outage) postpone the
/// requests with backoff; they stay queued across restarts until Harvest answers.
/// </summary>
public sealed partial class HydrationWorker : BackgroundService
{
    private const int BatchSize = 50;
    private const int PassLimit = 1000;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMinutes(1);

    private readonly ReceiverOptions _options;
    private readonly ICandidateHydrator _hydrator;
    private readonly MirrorStore _store;
    private readonly HydrationQueueStore _queue;
    private readonly CandidateMirror _mirror;
    private readonly SyncStatus _status;
    private readonly TimeProvider _time;
    private readonly ILogger<HydrationWorker> _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);

    public HydrationWorker(ReceiverOptions options, ICandidateHydrator hydrator, MirrorStore store, HydrationQueueStore queue, CandidateMirror mirror,
        SyncStatus status, TimeProvider time, ILogger<HydrationWorker> logger)
    {
        ArgumentNullException.ThrowIfNull(queue);
        _options = options;
        _hydrator = hydrator;
        _store = store;
        _queue = queue;
        _mirror = mirror;
        _status = status;
        _time = time;
        _logger = logger;
        queue.Requested += Wake;
    }

    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    /// <summary>Fetches every request that is due now; returns how many candidates were served (fetched or found deleted).</summary>
    public async Task<int> HydrateDueAsync(CancellationToken cancellationToken)
    {
        if (!_store.TryLoad())
        {
            return 0;
        }
        var due = _queue.Due(_time.GetUtcNow(), PassLimit);
        var served = 0;
        foreach (var batch in due.Chunk(BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            IReadOnlyList<CandidateRecord> fetched;
            try
            {
                fetched = await _hydrator.FetchAsync([.. batch.Select(r => r.CandidateId)], cancellationToken).ConfigureAwait(false);
            }
            // Any failure of the fetch (Harvest refusals, timeouts, network) postpones; only shutdown ends the pass.
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var error = $"{ex.GetType().Name}: {ex.Message}";
                await _queue.PostponeAsync(batch, _time.GetUtcNow(), error).ConfigureAwait(false);
                _status.HydrationFailed(batch.Length, _queue.Count(), error);
                LogFailed(_logger, batch.Length, ex.GetType().Name, ex.Message);
                // The rest would fail the same way; they stay due for the next pass.
                break;
            }
            var byId = fetched.ToDictionary(r => r.Id);
            var changes = new MirrorBatch();
            foreach (var request in batch)
            {
                var existing = _mirror.Get(request.CandidateId);
                if (byId.TryGetValue(request.CandidateId, out var record))
                {
                    if (existing is null && _mirror.SurvivorOf(request.CandidateId) is not null)
                    {
                        // Fetched just before its merge was applied: the merged-away record stays away.
                        continue;
                    }
                    var merged = HarvestCandidateMapper.Merge(record, existing);
                    if (!HarvestCandidateMapper.Same(merged, existing))
                    {
                        changes.Apply(new MirrorChange(CandidateChangeKind.Upserted, request.CandidateId, merged));
                    }
                }
                else if (existing is not null)
                {
                    changes.Apply(new MirrorChange(CandidateChangeKind.Deleted, request.CandidateId, null));
                }
            }
            changes.CompleteHydration(batch);
            await _store.CommitAsync(changes).ConfigureAwait(false);
            served += batch.Length;
            _status.Hydrated(batch.Length, _queue.Count());
        }
        return served;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                await HydrateDueAsync(stoppingToken).ConfigureAwait(false);
                var now = _time.GetUtcNow();
                wait = !_store.IsLoaded ? TimeSpan.FromSeconds(1)
                    : _queue.NextDue() is { } next && next - now < IdlePoll ? next - now : IdlePoll;
            }
            // The worker must outlive any failure: a dead worker would stop hydration until a restart.
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogPassFailed(_logger, ex, ex.GetType().Name);
                wait = TimeSpan.FromSeconds(1);
            }
            if (wait > TimeSpan.Zero)
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                await Task.WhenAny(_wake.WaitAsync(wake.Token), Task.Delay(wait, _time, wake.Token)).ConfigureAwait(false);
                await wake.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        try
        {
            ExecuteTask?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hydrating {Count} candidates from Harvest failed ({Error}: {Reason}); retrying with backoff")]
    private static partial void LogFailed(ILogger logger, int count, string error, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Hydration pass failed ({Error}); retrying")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, string error);
}
