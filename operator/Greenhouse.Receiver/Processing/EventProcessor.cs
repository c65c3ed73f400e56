using System.Text;
using System.Text.Json;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Threading;
using Greenhouse.Receiver.Webhooks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Processing;

/// <summary>
/// Applies stored events to the candidate mirror in the background. Events of one candidate are
/// applied in arrival order: while an earlier event of a candidate waits for a retry, its later
/// events wait too. A pass's mirror changes, change-log entries and "processed" marks are one
/// transaction (<see cref="MirrorStore.CommitAsync"/>), so a crash never applies an event twice or half.
/// The stores own the SQL; this class is the processing loop and its decisions only.
/// </summary>
public sealed partial class EventProcessor : BackgroundService
{
    private const int BatchSize = 1024;
    // Each chunk is one transaction on the database writer; small chunks let ingest commits interleave.
    private const int ChunkSize = 128;
    // While deliveries are in flight, a pass is one small chunk (the writer is held briefly) and is
    // followed by a pause of BusyYield times its own duration: the processor takes at most about a
    // third of a core from ingest, more when requests stop. The backlog waits in the inbox (lag),
    // nothing is lost, and at steady rates well below the maximum it still keeps up.
    private const int BusyBatchSize = 64;
    private const int BusyYield = 2;
    // With this many deliveries waiting for their answer the request path is short of CPU (requests
    // queue at the inbox): the processor then pauses 20 times its pass (about 5% of a core), so
    // answers to Greenhouse, which times out and retries, come first; as soon as the queue shrinks
    // it takes its third again. The backlog waits in the inbox, durable.
    private const int SaturatedInFlight = 32;
    private const int SaturatedYield = 20;
    // Passes are spaced so a busy inbox does not alternate every ingest commit with a processing commit.
    private static readonly TimeSpan PassSpacing = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ScrubRetry = TimeSpan.FromSeconds(5);

    private readonly ReceiverOptions _options;
    private readonly CandidateMirror _mirror;
    private readonly ReceiverMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<EventProcessor> _logger;
    private readonly WebhookInbox _inbox;
    private readonly InboxStore _events;
    private readonly MirrorStore _store;
    private readonly DatabaseMaintenance _maintenance;
    private readonly TombstoneStore _tombstones;
    private readonly SemaphoreSlim _wake = new(0, 1);

    public EventProcessor(ReceiverOptions options, CandidateMirror mirror, WebhookInbox inbox, InboxStore events, MirrorStore store,
        DatabaseMaintenance maintenance, TombstoneStore tombstones, ReceiverMetrics metrics, TimeProvider time, ILogger<EventProcessor> logger)
    {
        ArgumentNullException.ThrowIfNull(inbox);
        _options = options;
        _tombstones = tombstones;
        _mirror = mirror;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _inbox = inbox;
        _events = events;
        _store = store;
        _maintenance = maintenance;
        inbox.Committed += Wake;
    }

    public void Wake()
    {
        if (_wake.CurrentCount > 0)
        {
            // Already signalled (the common case under load): no exception thrown and caught per commit.
            return;
        }
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled; one wake-up covers every commit before it.
        }
    }

    private bool TryOpen() => _store.TryLoad() && _events.TryOpen();

    /// <summary>Processes every event that is due now (on a thread-pool thread); returns how many were handled (applied, retried or dead-lettered).</summary>
    public Task<int> ProcessDueAsync(CancellationToken cancellationToken) => Task.Run(() => ProcessDue(BatchSize, cancellationToken), cancellationToken);

    /// <summary>
    /// One pass, synchronously on the calling thread: the background loop runs it on a thread of its
    /// own at a lower CPU priority, so parsing and interpreting never sit in the thread pool's queue
    /// ahead of a request's continuation. The stores' transactions run on the database thread, and the
    /// pass blocks while they do.
    /// </summary>
    private int ProcessDue(int limit, CancellationToken cancellationToken)
    {
        if (!TryOpen())
        {
            return 0;
        }
        // Rows of deliveries already answered are inserted in batches; the pass reads them all.
        _inbox.IndexAsync().GetAwaiter().GetResult();
        var now = _time.GetUtcNow();
        var handled = 0;
        var blocked = new HashSet<long>();
        // Candidate state after the earlier events of this pass, which are not committed yet.
        var overlay = new Dictionary<long, CandidateRecord?>(Math.Min(limit, BusyBatchSize));
        CandidateRecord? Current(long id) => overlay.TryGetValue(id, out var pending) ? pending : _mirror.Get(id);
        // Tombstones set by earlier events of this pass, not committed yet.
        var passTombstones = new Dictionary<long, string?>(Math.Min(limit, BusyBatchSize));
        string? TombstoneReason(long id) => passTombstones.TryGetValue(id, out var reason) ? reason : _tombstones.ReasonFor(id);
        // One delegate of each a pass, not two new ones per event.
        Func<long, CandidateRecord?> current = Current;
        Func<long, string?> tombstoneReason = TombstoneReason;
        var outcomes = new List<Outcome>();
        // Filled by one event's filter at a time; an outcome keeps a copy only when it has entries.
        var ignored = new List<(long CandidateId, string Reason)>();
        foreach (var row in _events.ReadPending(limit))
        {
            cancellationToken.ThrowIfCancellationRequested();
            long? candidateId = null;
            // Read now into a pooled buffer and given back after this event (a dead letter keeps a copy):
            // a pass never holds its bodies, and reading them allocates nothing.
            var body = _events.RentBody(row);
            try
            {
                using var document = JsonDocument.Parse(body ?? throw new PoisonEventException("body missing or damaged in the inbox log"));
                candidateId = WebhookEventInterpreter.CandidateIdOf(row.Action, document.RootElement);
                if (candidateId is { } waiting && blocked.Contains(waiting))
                {
                    continue;
                }
                if (row.NextAttemptAt > now)
                {
                    if (candidateId is { } later)
                    {
                        blocked.Add(later);
                    }
                    continue;
                }
                ignored.Clear();
                var changes = PrivacyGuard.Filter(WebhookEventInterpreter.Interpret(row.Action, document.RootElement, current, now), tombstoneReason, ignored);
                for (var i = 0; i < changes.Count; i++)
                {
                    var change = changes[i];
                    overlay[change.CandidateId] = change.Kind is CandidateChangeKind.Deleted or CandidateChangeKind.Merged ? null : change.Candidate;
                    passTombstones[change.CandidateId] = TombstoneStore.ReasonOf(change);
                }
                outcomes.Add(new Outcome(row, changes, null, null) { CandidateId = candidateId, Ignored = ignored.Count == 0 ? [] : [.. ignored] });
            }
            catch (Exception ex) when (ex is PoisonEventException or JsonException)
            {
                outcomes.Add(new Outcome(row with { Body = body?.ToArray() }, [], null, ex.Message) { CandidateId = candidateId });
            }
            catch (Exception ex) when (IsDeterministic(ex))
            {
                // Parsing and interpreting are pure: the same body fails the same way on every
                // attempt, so retrying with backoff would only delay the dead letter by hours.
                outcomes.Add(new Outcome(row with { Body = body?.ToArray() }, [], null, $"cannot be read: {ex.GetType().Name}: {ex.Message}"));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var attempts = row.Attempts + 1;
                if (attempts >= _options.MaxAttempts)
                {
                    outcomes.Add(new Outcome(row with { Body = body?.ToArray() }, [], null, $"gave up after {attempts} attempts: {ex.GetType().Name}: {ex.Message}") { CandidateId = candidateId });
                }
                else
                {
                    outcomes.Add(new Outcome(row, [], ex, null));
                    if (candidateId is { } failed)
                    {
                        blocked.Add(failed);
                    }
                }
            }
            finally
            {
                // The document that read it was disposed when the try block ended.
                InboxStore.ReturnBody(row, body);
            }
            handled++;
            if (outcomes.Count == ChunkSize)
            {
                Commit(outcomes, now);
                outcomes = [];
            }
        }
        if (outcomes.Count > 0)
        {
            Commit(outcomes, now);
        }
        _maintenance.AfterPassAsync(handled, limit, now).GetAwaiter().GetResult();
        return handled;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Loop(stoppingToken);
                done.TrySetResult();
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        { IsBackground = true, Name = "event-processor" };
        thread.Start();
        return done.Task;
    }

    private void Loop(CancellationToken stoppingToken)
    {
        var lowered = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                if (!lowered && _store.IsLoaded)
                {
                    // Loading the mirror at start is what /readyz waits for: at the process's priority.
                    lowered = true;
                    BackgroundPriority.Lower();
                }
                var inFlight = _inbox.DeliveriesInFlight;
                var busy = inFlight > 0;
                var started = _time.GetTimestamp();
                var handled = ProcessDue(busy ? BusyBatchSize : BatchSize, stoppingToken);
                if (handled > 0)
                {
                    var yield = inFlight >= SaturatedInFlight ? SaturatedYield : BusyYield;
                    Pause(busy ? _time.GetElapsedTime(started) * yield : PassSpacing, wakeable: false, stoppingToken);
                    continue;
                }
                var now = _time.GetUtcNow();
                wait = !_store.IsLoaded ? TimeSpan.FromSeconds(1)
                    : _events.NextRetryAt() is { } due && due - now < IdlePoll ? due - now : IdlePoll;
                if (_maintenance.ScrubPending && wait > ScrubRetry)
                {
                    wait = ScrubRetry;
                }
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                LogPassFailed(_logger, ex, ex.GetType().Name);
                wait = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            if (wait > TimeSpan.Zero)
            {
                Pause(wait, wakeable: true, stoppingToken);
            }
        }
    }

    /// <summary>Blocks this (the processor's own) thread for <paramref name="wait"/> on the time provider, or until a commit wakes it.</summary>
    private void Pause(TimeSpan wait, bool wakeable, CancellationToken stoppingToken)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(wait, _time, wake.Token);
        var finished = wakeable ? Task.WhenAny(_wake.WaitAsync(wake.Token), delay) : delay;
        try
        {
            finished.Wait(CancellationToken.None);
        }
        catch (AggregateException) when (stoppingToken.IsCancellationRequested)
        {
        }
        wake.Cancel();
    }

    public override void Dispose()
    {
        base.Dispose();
        // The loop may be inside a pass; let it finish before its connection goes away.
        try
        {
            ExecuteTask?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        _wake.Dispose();
    }

    /// <summary>Writes a pass's outcomes in one transaction, then counts and logs them.</summary>
    private void Commit(List<Outcome> outcomes, DateTimeOffset now)
    {
        var hydrate = _options.Harvest is not null;
        var batch = new MirrorBatch();
        foreach (var outcome in outcomes)
        {
            if (outcome.DeadReason is { } reason)
            {
                batch.DeadLetter(outcome.Row, outcome.CandidateId, reason);
            }
            else if (outcome.Failure is { } failure)
            {
                var attempts = outcome.Row.Attempts + 1;
                batch.Retry(outcome.Row, attempts, now + RetryDelay(attempts), $"{failure.GetType().Name}: {failure.Message}");
            }
            else
            {
                for (var i = 0; i < outcome.Changes.Count; i++)
                {
                    var change = outcome.Changes[i];
                    batch.Apply(change);
                    if (hydrate)
                    {
                        // Webhook bodies are partial: fetch the full record. A delete cancels a
                        // pending fetch; a merge cancels the loser's and fetches the winner (which
                        // holds the loser's data now); an anonymised record is read again so the
                        // mirror holds what Greenhouse kept (the scrubbed fields stay scrubbed).
                        switch (change.Kind)
                        {
                            case CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized:
                                batch.RequestHydration(change.CandidateId);
                                break;
                            case CandidateChangeKind.Merged:
                                batch.CancelHydration(change.CandidateId);
                                batch.RequestHydration(change.MergedInto!.Value);
                                break;
                            default:
                                batch.CancelHydration(change.CandidateId);
                                break;
                        }
                    }
                }
                batch.MarkProcessed(outcome.Row);
            }
        }
        _store.CommitAsync(batch).GetAwaiter().GetResult();

        // The commit reaches the disk before the bodies it processed are erased from the log: after a
        // power loss the log could otherwise hold neither the body nor a row saying it was processed.
        _inbox.SyncDatabaseAsync().GetAwaiter().GetResult();
        EraseBodies(outcomes.Where(o => o.Failure is null).Select(o => o.Row));
        foreach (var outcome in outcomes)
        {
            foreach (var (candidateId, why) in outcome.Ignored)
            {
                _metrics.RecordIgnoredUpdate(why);
                LogIgnoredUpdate(_logger, candidateId, why);
            }
            if (outcome.DeadReason is { } reason)
            {
                _metrics.RecordProcessed(WebhookActions.Label(outcome.Row.Action), "dead_lettered", now);
                LogDeadLettered(_logger, outcome.Row.EventId, outcome.Row.Action, reason);
            }
            else if (outcome.Failure is { } failure)
            {
                _metrics.RecordProcessed(WebhookActions.Label(outcome.Row.Action), "retried", now);
                LogRetry(_logger, outcome.Row.EventId, outcome.Row.Action, outcome.Row.Attempts + 1, RetryDelay(outcome.Row.Attempts + 1), failure.GetType().Name);
            }
            else
            {
                _metrics.RecordProcessed(WebhookActions.Label(outcome.Row.Action), outcome.Changes.Count > 0 ? "applied" : "recorded", now);
            }
        }
    }

    /// <summary>Zeros the log records of events that were just processed or dead-lettered.</summary>
    private void EraseBodies(IEnumerable<PendingEvent> rows)
    {
        try
        {
            _inbox.MarkErased(_events.EraseBodies(rows));
        }
        catch (IOException ex)
        {
            // No row points into the segment any more: it is deleted (not reused) when segments are retired.
            LogScrubDeferred(_logger, ex.Message);
        }
    }

    private static bool IsDeterministic(Exception ex) => ex is not ObjectDisposedException
        && ex is InvalidOperationException or FormatException or OverflowException or ArgumentException
            or InvalidCastException or KeyNotFoundException or IndexOutOfRangeException or DecoderFallbackException;

    private TimeSpan RetryDelay(int attempts)
    {
        var exponent = Math.Min(attempts - 1, 30);
        return TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryBaseDelay.Ticks * (1L << exponent)));
    }

    /// <summary>What a pass decided for one event: applied (changes), retry (failure) or dead letter (reason).</summary>
    private sealed record Outcome(PendingEvent Row, IReadOnlyList<MirrorChange> Changes, Exception? Failure, string? DeadReason)
    {
        public long? CandidateId { get; init; }

        /// <summary>Upserts the privacy guard dropped: candidate and reason.</summary>
        public IReadOnlyList<(long CandidateId, string Reason)> Ignored { get; init; } = [];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} ({Action}) failed attempt {Attempt} with {Error}; retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string eventId, string action, int attempt, TimeSpan delay, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {EventId} ({Action}) moved to the dead letters: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string eventId, string action, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignored an update of candidate {CandidateId}: it was {Reason} (tombstoned); only a Harvest read may bring it back")]
    private static partial void LogIgnoredUpdate(ILogger logger, long candidateId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not erase processed webhook bodies in the inbox log ({Reason}); pruning deletes their segment")]
    private static partial void LogScrubDeferred(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing pass failed ({Error}); retrying")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, string error);
}
