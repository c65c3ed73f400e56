using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Greenhouse.Receiver.Webhooks;

/// <summary>
/// POST &lt;Webhook:Path&gt;: size limit, signature (current then previous secret), optional Basic
/// auth, envelope, dedupe and durable insert, then the answer. Nothing slow happens before the 200.
/// </summary>
public sealed partial class WebhookIngestEndpoint
{
    public const string EventIdHeader = "Greenhouse-Event-ID";
    public const string SignatureHeader = "Signature";

    private readonly ReceiverOptions _options;
    private readonly WebhookSecretsDirectory _secrets;
    private readonly WebhookInbox _inbox;
    private readonly ReceiverMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly UnverifiedBodyBudget _budget;
    private readonly ILogger<WebhookIngestEndpoint> _logger;

    public WebhookIngestEndpoint(ReceiverOptions options, WebhookSecretsDirectory secrets, WebhookInbox inbox, ReceiverMetrics metrics,
        TimeProvider time, UnverifiedBodyBudget budget, ILogger<WebhookIngestEndpoint> logger)
    {
        _options = options;
        _budget = budget;
        _secrets = secrets;
        _inbox = inbox;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = Stopwatch.GetTimestamp();
        var (status, result, label, stored, body) = await IngestAsync(context).ConfigureAwait(false);
        if (stored is not null)
        {
            // Awaited here, in this method's one state machine, not in a helper's of its own. Until the
            // inbox answers, its ingest thread may still copy the body, so the wait is not cut short when
            // the client goes away (it ends with the fsync, or the failed write, that answers the delivery).
            // The answer is written on the inbox's fsync thread, right after the sync (nothing below blocks).
            try
            {
                (status, result) = await stored.ConfigureAwait(false) switch
                {
                    InboxWriteResult.Accepted => (StatusCodes.Status200OK, WebhookResult.Accepted),
                    InboxWriteResult.Duplicate => (StatusCodes.Status200OK, WebhookResult.Duplicate),
                    _ => (StatusCodes.Status503ServiceUnavailable, WebhookResult.Unavailable),
                };
            }
            finally
            {
                body!.Return();
            }
        }
        _metrics.RecordDelivery(label, result, Stopwatch.GetElapsedTime(started));
        await Answer(context, status, result).ConfigureAwait(false);
    }

    /// <summary>
    /// What ingest decided without waiting: the answer, or (<paramref name="Stored"/> not null) the
    /// inbox's pending write of <paramref name="Body"/>, which the caller awaits and then gives the body back.
    /// </summary>
    private readonly record struct Outcome(int Status, WebhookResult Result, string Label, Task<InboxWriteResult>? Stored = null, PooledBody? Body = null)
    {
        public static implicit operator Outcome((int Status, WebhookResult Result, string Label) answer) =>
            new(answer.Status, answer.Result, answer.Label);
    }

    public Task RejectMethodAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _metrics.RecordDelivery(WebhookActions.Unknown, WebhookResult.RejectedMalformed, TimeSpan.Zero);
        context.Response.Headers.Allow = "POST";
        LogRejected(_logger, "method not allowed");
        return Answer(context, StatusCodes.Status405MethodNotAllowed, WebhookResult.RejectedMalformed);
    }

    /// <summary>
    /// Not an async method itself: a body that came with its headers (most do) is checked and handed
    /// to the inbox without a state machine of its own being boxed or resumed on the way back; only a
    /// body still arriving takes the awaiting path.
    /// </summary>
    private ValueTask<Outcome> IngestAsync(HttpContext context)
    {
        var request = context.Request;
        if (!IsJson(request.ContentType))
        {
            LogRejected(_logger, "content type is not application/json");
            return new((StatusCodes.Status415UnsupportedMediaType, WebhookResult.RejectedMalformed, WebhookActions.Unknown));
        }
        if (request.ContentLength > _options.MaxBodyBytes)
        {
            LogRejected(_logger, "body larger than Webhook:MaxBodyBytes");
            return new((StatusCodes.Status413PayloadTooLarge, WebhookResult.RejectedTooLarge, WebhookActions.Unknown));
        }
        // Until the signature is checked the body is anyone's: its bytes count against the budget
        // shared by all unverified bodies, and it must arrive whole within the read deadline.
        var reservation = new Reservation(_budget);
        var secrets = _secrets.Current;
        ValueTask<(PooledBody? Body, BodyRead Outcome)> read;
        try
        {
            read = ReadBodyAsync(request, reservation, context.RequestAborted);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        if (!read.IsCompletedSuccessfully)
        {
            return AwaitBodyAsync(context, read, reservation, secrets);
        }
        return Verified(context, read.Result, reservation, secrets);
    }

    private async ValueTask<Outcome> AwaitBodyAsync(HttpContext context,
        ValueTask<(PooledBody? Body, BodyRead Outcome)> read, Reservation reservation, WebhookSecrets secrets)
    {
        (PooledBody? Body, BodyRead Outcome) body;
        try
        {
            body = await read.ConfigureAwait(false);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        return await Verified(context, body, reservation, secrets).ConfigureAwait(false);
    }

    /// <summary>Checks the signature of a body read whole (the budget is given back either way), then answers a refused read or stores the delivery.</summary>
    private ValueTask<Outcome> Verified(HttpContext context, (PooledBody? Body, BodyRead Outcome) read,
        Reservation reservation, WebhookSecrets secrets)
    {
        var (body, outcome) = read;
        var slot = SecretSlotMatch.None;
        try
        {
            if (body is not null)
            {
                slot = WebhookSignature.Verify(context.Request.Headers[SignatureHeader].ToString() is { Length: > 0 } signature ? signature : null, body.Span, secrets);
            }
        }
        catch
        {
            body?.Return();
            throw;
        }
        finally
        {
            reservation.Release();
        }
        if (outcome != BodyRead.Complete)
        {
            // The rest of the body is not wanted: no keep-alive. Kestrel discards (does not buffer)
            // what the client still sends for at most its drain time of 5 s, then closes.
            context.Response.Headers.Connection = "close";
        }
        switch (outcome)
        {
            case BodyRead.TooLarge:
                LogRejected(_logger, "body larger than Webhook:MaxBodyBytes");
                return new((StatusCodes.Status413PayloadTooLarge, WebhookResult.RejectedTooLarge, WebhookActions.Unknown));
            case BodyRead.OverBudget:
                LogRejected(_logger, "unverified bodies in memory at Webhook:MaxUnverifiedBytes; answered 503");
                return new((StatusCodes.Status503ServiceUnavailable, WebhookResult.Unavailable, WebhookActions.Unknown));
            case BodyRead.TimedOut:
                LogRejected(_logger, "body not received within Webhook:BodyReadTimeout");
                return new((StatusCodes.Status408RequestTimeout, WebhookResult.RejectedMalformed, WebhookActions.Unknown));
        }
        return new(StoreVerified(context, body!, slot, secrets));
    }

    /// <summary>The bytes of one request's body counted against the shared budget of unverified bodies, given back once.</summary>
    private sealed class Reservation(UnverifiedBodyBudget budget)
    {
        private long _reserved;

        /// <summary>Reserves <paramref name="bytes"/> more: the total reserved, or -1 when the budget is spent.</summary>
        public long Reserve(long bytes) => budget.TryReserve(bytes) ? _reserved += bytes : -1;

        public void Release()
        {
            budget.Release(_reserved);
            _reserved = 0;
        }
    }

    /// <summary>
    /// Everything after the signature check, up to the inbox's write: gives the pooled body back unless
    /// the inbox may still read it (then the outcome carries it, with the write to await).
    /// </summary>
    private Outcome StoreVerified(HttpContext context, PooledBody body, SecretSlotMatch slot, WebhookSecrets secrets)
    {
        var giveBack = true;
        try
        {
            var request = context.Request;
            if (slot == SecretSlotMatch.None)
            {
                if (IsPing(body.Span))
                {
                    return UnverifiedPing();
                }
                LogRejected(_logger, "signature missing, malformed or not made with a configured secret");
                return (StatusCodes.Status401Unauthorized, WebhookResult.RejectedSignature, WebhookActions.Unknown);
            }
            // The time first, then the live secrets, and the slot counted is the live one: read after a reload,
            // the secrets place the old key as previous; read before it, the time is before the reload's.
            var verifiedAt = _time.GetUtcNow();
            if (_secrets.Current.SlotOf(slot, secrets) is not SecretSlotMatch.None and var live)
            {
                _metrics.RecordVerified(live, verifiedAt);
            }
            if (secrets.BasicAuth is { } basic && !basic.Matches(request.Headers.Authorization.ToString()))
            {
                if (IsPing(body.Span))
                {
                    return UnverifiedPing();
                }
                LogRejected(_logger, "basic auth missing or wrong");
                return (StatusCodes.Status401Unauthorized, WebhookResult.RejectedSignature, WebhookActions.Unknown);
            }

            var action = WebhookEnvelope.ReadAction(body.Span, out var problem);
            if (action is null)
            {
                LogRejected(_logger, problem!);
                return (StatusCodes.Status400BadRequest, WebhookResult.RejectedMalformed, WebhookActions.Unknown);
            }
            var label = WebhookActions.Label(action);
            if (label is WebhookActions.Ping or WebhookActions.Unknown)
            {
                LogIgnored(_logger, label);
                return (StatusCodes.Status200OK, WebhookResult.Ignored, label);
            }
            if (_options.Events.Count > 0 && !_options.Events.Contains(action))
            {
                return (StatusCodes.Status200OK, WebhookResult.Ignored, label);
            }

            var idHeader = request.Headers[EventIdHeader].ToString().Trim();
            var eventId = WebhookEventId.From(idHeader, body.Span);
            if (idHeader.Length > 0 && !ReferenceEquals(eventId, idHeader))
            {
                // The stored (hashed) form only: the header is unsigned and may carry control characters.
                LogEventIdHashed(_logger, eventId);
            }
            // From here the inbox may read the body until it answers: the caller gives it back then.
            var stored = _inbox.StoreAndAnswerOnSyncThreadAsync(eventId, label, body.Memory);
            giveBack = false;
            return new Outcome(0, WebhookResult.Accepted, label, stored, body);
        }
        finally
        {
            if (giveBack)
            {
                body.Return();
            }
        }
    }

    /// <summary>
    /// Greenhouse does not document whether its ping is signed, and a ping not answered 200 leaves
    /// the new webhook disabled. A ping changes nothing, so it is answered 200 unverified (and stored
    /// nowhere); every other unverified body stays 401.
    /// </summary>
    private static bool IsPing(ReadOnlySpan<byte> body) => WebhookEnvelope.ReadAction(body, out _) == WebhookActions.Ping;

    private (int Status, WebhookResult Result, string Label) UnverifiedPing()
    {
        LogIgnored(_logger, "ping (unverified)");
        return (StatusCodes.Status200OK, WebhookResult.IgnoredUnverifiedPing, WebhookActions.Ping);
    }

    /// <summary><c>application/json</c>, with or without parameters; the exact value Greenhouse sends is checked without parsing.</summary>
    private static bool IsJson(string? contentType) =>
        contentType is not null
        && (contentType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
                && mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)));

    /// <summary>
    /// The raw body, read within <see cref="ReceiverOptions.BodyReadTimeout"/>. <paramref name="reserve"/>
    /// is asked for every growth of the buffered bytes and returns -1 when the shared budget is spent
    /// (an object, not a delegate: no allocation per request).
    /// Chunked bodies have no Content-Length to check first, so the size is checked while reading.
    /// </summary>
    private async ValueTask<(PooledBody? Body, BodyRead Outcome)> ReadBodyAsync(HttpRequest request, Reservation reserve, CancellationToken aborted)
    {
        var reader = request.BodyReader;
        long buffered = 0;
        // A declared length is reserved at once: a body that cannot fit is refused before it is read.
        if (request.ContentLength is { } declared)
        {
            if (reserve.Reserve(declared) < 0)
            {
                return (null, BodyRead.OverBudget);
            }
            buffered = declared;
        }
        // A body that arrived with its headers (most do) is taken without a deadline timer.
        if (reader.TryRead(out var first) && Take(reader, first, reserve, ref buffered, out var body) is { } early)
        {
            return (body, early);
        }
        using var deadline = new CancellationTokenSource(_options.BodyReadTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, deadline.Token);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await reader.ReadAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                return (null, BodyRead.TimedOut);
            }
            if (Take(reader, read, reserve, ref buffered, out body) is { } outcome)
            {
                return (body, outcome);
            }
        }
    }

    /// <summary>Checks one read against the limits; the outcome once the body is complete or refused, else null (read on).</summary>
    private BodyRead? Take(PipeReader reader, ReadResult read, Reservation reserve, ref long buffered, out PooledBody? body)
    {
        body = null;
        var length = read.Buffer.Length;
        if (length > _options.MaxBodyBytes)
        {
            reader.AdvanceTo(read.Buffer.End);
            return BodyRead.TooLarge;
        }
        if (length > buffered)
        {
            if (reserve.Reserve(length - buffered) < 0)
            {
                reader.AdvanceTo(read.Buffer.End);
                return BodyRead.OverBudget;
            }
            buffered = length;
        }
        if (read.IsCompleted)
        {
            body = PooledBody.Copy(read.Buffer);
            reader.AdvanceTo(read.Buffer.End);
            return BodyRead.Complete;
        }
        reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        return null;
    }

    /// <summary>
    /// A request body in a buffer from a pool (bodies up to 64 KiB; larger ones get an array of their
    /// own): at thousands of deliveries a second a new 5 KB array each was most of the request path's
    /// garbage, and every gen0 collection copied the ones still waiting for their fsync. The pool is the
    /// receiver's own: the shared pool keeps a few dozen arrays of a size per core, and with a few hundred
    /// deliveries in flight it missed for about one in thirty, a new 8 KiB array each time (a quarter of
    /// all allocation at half the maximum rate). It keeps up to 256 arrays of a size (2 MiB of 8 KiB
    /// arrays, the size a typical payload takes); beyond that, arrays are allocated and dropped.
    /// </summary>
    private sealed class PooledBody
    {
        private const int PoolLimit = 64 * 1024;
        private static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(PoolLimit, maxArraysPerBucket: 256);
        private byte[]? _buffer;

        private PooledBody(byte[] buffer, int length)
        {
            _buffer = buffer;
            Length = length;
        }

        public int Length { get; }

        public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

        public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

        public static PooledBody Copy(ReadOnlySequence<byte> source)
        {
            var length = checked((int)source.Length);
            var buffer = length <= PoolLimit ? Pool.Rent(length) : new byte[length];
            source.CopyTo(buffer);
            return new PooledBody(buffer, length);
        }

        /// <summary>Gives the buffer back (once; later calls do nothing).</summary>
        public void Return()
        {
            if (Interlocked.Exchange(ref _buffer, null) is { Length: <= PoolLimit } buffer && Length <= PoolLimit)
            {
                Pool.Return(buffer);
            }
        }
    }

    private enum BodyRead
    {
        Complete,
        TooLarge,
        OverBudget,
        TimedOut,
    }

    private static Task Answer(HttpContext context, int status, WebhookResult result)
    {
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "30";
        }
        context.Response.ContentType = "application/json";
        // Constant UTF-8 answers with a Content-Length: no encoding and no chunked framing per request.
        var body = result switch
        {
            WebhookResult.Accepted => """{"result":"accepted"}"""u8,
            WebhookResult.Duplicate => """{"result":"duplicate"}"""u8,
            WebhookResult.Ignored or WebhookResult.IgnoredUnverifiedPing => """{"result":"ignored"}"""u8,
            WebhookResult.RejectedSignature => """{"result":"rejected","reason":"signature or basic auth"}"""u8,
            WebhookResult.RejectedTooLarge => """{"result":"rejected","reason":"body too large"}"""u8,
            _ when status == StatusCodes.Status408RequestTimeout => """{"result":"rejected","reason":"body not received in time"}"""u8,
            WebhookResult.Unavailable => """{"result":"unavailable","reason":"storage cannot take the event now; retry"}"""u8,
            _ => """{"result":"rejected","reason":"malformed request"}"""u8,
        };
        context.Response.ContentLength = body.Length;
        var writer = context.Response.BodyWriter;
        body.CopyTo(writer.GetSpan(body.Length));
        writer.Advance(body.Length);
        // Kestrel flushes the response when the handler returns.
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected webhook delivery: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Greenhouse-Event-ID header is not 1-200 characters of [A-Za-z0-9._:-]; the delivery is stored under its hash {EventId}")]
    private static partial void LogEventIdHashed(ILogger logger, string eventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignored webhook delivery with action {Action}")]
    private static partial void LogIgnored(ILogger logger, string action);
}
