using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
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
    private const int MaxEventIdLength = 200;

    private readonly ReceiverOptions _options;
    private readonly WebhookSecretsDirectory _secrets;
    private readonly WebhookInbox _inbox;
    private readonly ReceiverMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookIngestEndpoint> _logger;

    public WebhookIngestEndpoint(ReceiverOptions options, WebhookSecretsDirectory secrets, WebhookInbox inbox, ReceiverMetrics metrics,
        TimeProvider time, ILogger<WebhookIngestEndpoint> logger)
    {
        _options = options;
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
        var (status, result, label) = await IngestAsync(context).ConfigureAwait(false);
        _metrics.RecordDelivery(label, result, Stopwatch.GetElapsedTime(started));
        await Answer(context, status, result).ConfigureAwait(false);
    }

    public Task RejectMethodAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _metrics.RecordDelivery(WebhookActions.Unknown, WebhookResult.RejectedMalformed, TimeSpan.Zero);
        context.Response.Headers.Allow = "POST";
        LogRejected(_logger, "method not allowed");
        return Answer(context, StatusCodes.Status405MethodNotAllowed, WebhookResult.RejectedMalformed);
    }

    private async Task<(int Status, WebhookResult Result, string Label)> IngestAsync(HttpContext context)
    {
        var request = context.Request;
        if (!IsJson(request.ContentType))
        {
            LogRejected(_logger, "content type is not application/json");
            return (StatusCodes.Status415UnsupportedMediaType, WebhookResult.RejectedMalformed, WebhookActions.Unknown);
        }
        if (request.ContentLength > _options.MaxBodyBytes)
        {
            LogRejected(_logger, "body larger than Webhook:MaxBodyBytes");
            return (StatusCodes.Status413PayloadTooLarge, WebhookResult.RejectedTooLarge, WebhookActions.Unknown);
        }
        var body = await ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            LogRejected(_logger, "body larger than Webhook:MaxBodyBytes");
            return (StatusCodes.Status413PayloadTooLarge, WebhookResult.RejectedTooLarge, WebhookActions.Unknown);
        }

        var secrets = _secrets.Current;
        var slot = WebhookSignature.Verify(request.Headers[SignatureHeader].ToString() is { Length: > 0 } header ? header : null, body, secrets);
        if (slot == SecretSlotMatch.None)
        {
            if (IsPing(body))
            {
                return UnverifiedPing();
            }
            LogRejected(_logger, "signature missing, malformed or not made with a configured secret");
            return (StatusCodes.Status401Unauthorized, WebhookResult.RejectedSignature, WebhookActions.Unknown);
        }
        _metrics.RecordVerified(slot, _time.GetUtcNow());
        if (secrets.BasicAuth is { } basic && !basic.Matches(request.Headers.Authorization.ToString()))
        {
            if (IsPing(body))
            {
                return UnverifiedPing();
            }
            LogRejected(_logger, "basic auth missing or wrong");
            return (StatusCodes.Status401Unauthorized, WebhookResult.RejectedSignature, WebhookActions.Unknown);
        }

        var action = WebhookEnvelope.ReadAction(body, out var problem);
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

        var eventId = request.Headers[EventIdHeader].ToString().Trim();
        if (eventId.Length == 0 || eventId.Length > MaxEventIdLength)
        {
            // Without a usable delivery id the body itself identifies the event.
            eventId = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
        }
        var stored = await _inbox.StoreAsync(eventId, label, body, context.RequestAborted).ConfigureAwait(false);
        return stored switch
        {
            InboxWriteResult.Accepted => (StatusCodes.Status200OK, WebhookResult.Accepted, label),
            InboxWriteResult.Duplicate => (StatusCodes.Status200OK, WebhookResult.Duplicate, label),
            _ => (StatusCodes.Status503ServiceUnavailable, WebhookResult.Unavailable, label),
        };
    }

    /// <summary>
    /// Greenhouse does not document whether its ping is signed, and a ping not answered 200 leaves
    /// the new webhook disabled. A ping changes nothing, so it is answered 200 unverified (and stored
    /// nowhere); every other unverified body stays 401.
    /// </summary>
    private static bool IsPing(byte[] body) => WebhookEnvelope.ReadAction(body, out _) == WebhookActions.Ping;

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

    /// <summary>The raw body, or null when it exceeds the limit (chunked bodies have no Content-Length to check first).</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (read.Buffer.Length > _options.MaxBodyBytes)
            {
                reader.AdvanceTo(read.Buffer.End);
                return null;
            }
            if (read.IsCompleted)
            {
                var body = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return body;
            }
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignored webhook delivery with action {Action}")]
    private static partial void LogIgnored(ILogger logger, string action);
}
