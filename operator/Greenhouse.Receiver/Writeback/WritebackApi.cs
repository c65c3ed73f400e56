using System.Security.Cryptography;
using Google.Protobuf;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Storage;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using V1 = Greenhouse.Contracts.Receiver.V1;

namespace Greenhouse.Receiver.Writeback;

/// <summary>
/// greenhouse.receiver.v1.Writeback: notes, e-mail notes, tags and prospects written to Greenhouse
/// as the sync user. Idempotent on <c>client_request_id</c> through the outbox; Harvest failures map
/// to precise gRPC codes (see docs/receiver.md).
/// </summary>
public sealed partial class WritebackApi : V1.Writeback.WritebackBase
{
    private const int MaxRequestIdLength = 200;
    private const int MaxBodyLength = 100_000;

    // Calls with the same request id run one at a time; different ids rarely share a stripe.
    private static readonly SemaphoreSlim[] Stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    private readonly IHarvestClient _harvest;
    private readonly WritebackOutbox _outbox;
    private readonly long _syncUserId;
    private readonly ILogger<WritebackApi> _logger;

    public WritebackApi(IHarvestClient harvest, WritebackOutbox outbox, ReceiverOptions options, ILogger<WritebackApi> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _harvest = harvest;
        _outbox = outbox;
        _syncUserId = options.Harvest?.SyncUserId ?? throw new InvalidOperationException("Harvest is not enabled.");
        _logger = logger;
    }

    public override Task<V1.WritebackResult> AddNote(V1.AddNoteRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        RequireId(request.ClientRequestId);
        RequireCandidate(request.CandidateId);
        RequireText("body", request.Body, MaxBodyLength);
        var visibility = request.Visibility switch
        {
            V1.NoteVisibility.Unspecified or V1.NoteVisibility.AdminOnly => "admin_only_visible",
            V1.NoteVisibility.Private => "privately_visible",
            V1.NoteVisibility.Public => "publicly_visible",
            _ => throw Invalid("visibility", "is not a known NoteVisibility"),
        };
        return RunAsync("add_note", request.ClientRequestId, request, request.CandidateId,
            async ct => (await _harvest.AddNoteAsync(new HarvestNoteRequest(request.CandidateId, request.Body, visibility), ct).ConfigureAwait(false)).Id,
            (entry, ct) => FindNoteAsync(request.CandidateId, entry, n => n.Body == request.Body && n.Type != "EMAIL", ct),
            context.CancellationToken);
    }

    public override Task<V1.WritebackResult> AddEmailNote(V1.AddEmailNoteRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        RequireId(request.ClientRequestId);
        RequireCandidate(request.CandidateId);
        RequireEmail("to", request.To);
        RequireEmail("from", request.From);
        for (var i = 0; i < request.Cc.Count; i++)
        {
            RequireEmail($"cc[{i}]", request.Cc[i]);
        }
        RequireText("subject", request.Subject, 1000);
        RequireText("body", request.Body, MaxBodyLength);
        return RunAsync("add_email_note", request.ClientRequestId, request, request.CandidateId,
            async ct => (await _harvest.AddEmailNoteAsync(new HarvestEmailNoteRequest(request.CandidateId, request.Subject, request.Body, request.From, request.To, [.. request.Cc]), ct).ConfigureAwait(false)).Id,
            (entry, ct) => FindNoteAsync(request.CandidateId, entry, n => n.Body == request.Body && n.Subject == request.Subject, ct),
            context.CancellationToken);
    }

    public override Task<V1.WritebackResult> AddTags(V1.AddTagsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        RequireId(request.ClientRequestId);
        RequireCandidate(request.CandidateId);
        if (request.Tags.Count == 0)
        {
            throw Invalid("tags", "must name at least one tag");
        }
        for (var i = 0; i < request.Tags.Count; i++)
        {
            RequireText($"tags[{i}]", request.Tags[i], 255);
        }
        // Applying tags is idempotent in Harvest: an in-doubt request is simply sent again.
        return RunAsync("add_tags", request.ClientRequestId, request, request.CandidateId,
            async ct =>
            {
                await _harvest.AddTagsAsync(request.CandidateId, request.Tags.Select(t => t.Trim()), ct).ConfigureAwait(false);
                return 0L;
            },
            reconcile: null,
            context.CancellationToken);
    }

    public override Task<V1.WritebackResult> RemoveTag(V1.RemoveTagRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        RequireId(request.ClientRequestId);
        RequireCandidate(request.CandidateId);
        RequireText("tag", request.Tag, 255);
        return RunAsync("remove_tag", request.ClientRequestId, request, request.CandidateId,
            async ct =>
            {
                await _harvest.RemoveTagAsync(request.CandidateId, request.Tag.Trim(), ct).ConfigureAwait(false);
                return 0L;
            },
            reconcile: null,
            context.CancellationToken);
    }

    public override Task<V1.WritebackResult> AddProspect(V1.AddProspectRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        RequireId(request.ClientRequestId);
        RequireCandidate(request.CandidateId);
        for (var i = 0; i < request.JobIds.Count; i++)
        {
            if (request.JobIds[i] <= 0)
            {
                throw Invalid($"job_ids[{i}]", "must be a positive Greenhouse job id");
            }
        }
        foreach (var (field, value) in new[] { ("source_id", request.SourceId), ("prospect_pool_id", request.ProspectPoolId), ("prospect_pool_stage_id", request.ProspectPoolStageId), ("prospect_owner_id", request.ProspectOwnerId) })
        {
            if (value < 0)
            {
                throw Invalid(field, "must be a positive Greenhouse id or 0 for none");
            }
        }
        var prospect = new HarvestProspectRequest(request.CandidateId, request.JobIds.Count == 0 ? null : [.. request.JobIds],
            Optional(request.SourceId), Optional(request.ProspectPoolId), Optional(request.ProspectPoolStageId), Optional(request.ProspectOwnerId));
        return RunAsync("add_prospect", request.ClientRequestId, request, request.CandidateId,
            async ct => (await _harvest.AddProspectAsync(prospect, ct).ConfigureAwait(false)).Id,
            FindProspectAsync,
            context.CancellationToken);

        async Task<long?> FindProspectAsync(OutboxEntry entry, CancellationToken ct)
        {
            await foreach (var application in _harvest.ListApplicationsAsync(request.CandidateId, ct).ConfigureAwait(false))
            {
                if (application.Prospect && application.CreatedAt >= entry.CreatedAt - ClockSlack)
                {
                    return application.Id;
                }
            }
            return null;
        }
    }

    private static readonly TimeSpan ClockSlack = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The outbox protocol: a done id returns its first result; an in-doubt id (sent, answer lost,
    /// possibly a crash) is first looked up in Greenhouse by <paramref name="reconcile"/>, and only sent
    /// again when not found there.
    /// </summary>
    private async Task<V1.WritebackResult> RunAsync(string operation, string requestId, IMessage request, long candidateId,
        Func<CancellationToken, Task<long>> send, Func<OutboxEntry, CancellationToken, Task<long?>>? reconcile, CancellationToken cancellationToken)
    {
        var hash = Hash(operation, request);
        var stripe = Stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(requestId) % Stripes.Length)];
        await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var existing = await _outbox.BeginAsync(requestId, operation, hash, candidateId).ConfigureAwait(false);
            if (existing is not null && (existing.Operation != operation || existing.RequestHash != hash))
            {
                throw new RpcException(new Status(StatusCode.AlreadyExists,
                    $"client_request_id '{requestId}' was already used for a different {existing.Operation} request; use a new id for a new request"));
            }
            if (existing is { Done: true })
            {
                return Result(requestId, replayed: true, existing.GreenhouseId, existing.CandidateId);
            }
            try
            {
                if (existing is not null && reconcile is not null && await reconcile(existing, cancellationToken).ConfigureAwait(false) is { } found)
                {
                    await _outbox.CompleteAsync(requestId, found, candidateId).ConfigureAwait(false);
                    LogReconciled(_logger, operation, requestId, found);
                    return Result(requestId, replayed: true, found, candidateId);
                }
                var id = await send(cancellationToken).ConfigureAwait(false);
                await _outbox.CompleteAsync(requestId, id, candidateId).ConfigureAwait(false);
                return Result(requestId, replayed: false, id, candidateId);
            }
            catch (HarvestException ex)
            {
                // Refused outright means nothing was written; an outage may have written, so the entry stays in doubt.
                if (ex is not HarvestUnavailableException)
                {
                    await _outbox.ForgetAsync(requestId).ConfigureAwait(false);
                }
                LogFailed(_logger, operation, requestId, ex.GetType().Name);
                throw ToRpc(ex);
            }
        }
        finally
        {
            stripe.Release();
        }
    }

    internal static RpcException ToRpc(HarvestException ex) => ex switch
    {
        HarvestValidationException v => new RpcException(new Status(StatusCode.InvalidArgument,
            "Greenhouse rejected the request: " + string.Join("; ", v.Errors.Select(e => e.Field is null ? e.Message : $"{e.Field}: {e.Message}")))),
        HarvestNotFoundException => new RpcException(new Status(StatusCode.NotFound, ex.Message)),
        HarvestForbiddenException f => new RpcException(new Status(StatusCode.PermissionDenied,
            f.Scope is null ? ex.Message : $"the Harvest credential lacks scope {f.Scope}: {ex.Message}")),
        HarvestUnauthorizedException => new RpcException(new Status(StatusCode.FailedPrecondition,
            $"the receiver's Harvest credentials are refused; fix the credentials directory: {ex.Message}")),
        HarvestRateLimitedException r => new RpcException(new Status(StatusCode.ResourceExhausted, ex.Message),
            r.RetryAfter is { } after ? new Metadata { { "retry-after-seconds", ((int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) } } : []),
        HarvestUnavailableException => new RpcException(new Status(StatusCode.Unavailable,
            $"{ex.Message}; retry with the same client_request_id (it will not be written twice)")),
        _ => new RpcException(new Status(StatusCode.Internal, ex.Message)),
    };

    private async Task<long?> FindNoteAsync(long candidateId, OutboxEntry entry, Func<HarvestNote, bool> same, CancellationToken ct)
    {
        var notes = await _harvest.ListNotesAsync(candidateId, ct).ConfigureAwait(false);
        return notes.FirstOrDefault(n => n.UserId == _syncUserId && n.CreatedAt >= entry.CreatedAt - ClockSlack && same(n))?.Id;
    }

    /// <summary>What identifies a request apart from its id: the operation and every other field.</summary>
    internal static string Hash(string operation, IMessage request)
    {
        var copy = request.Descriptor.Parser.ParseFrom(request.ToByteArray());
        // The id itself is not part of what is compared.
        copy.Descriptor.FindFieldByName("client_request_id").Accessor.SetValue(copy, "");
        var bytes = System.Text.Encoding.UTF8.GetBytes(operation).Concat(copy.ToByteArray()).ToArray();
        return Convert.ToHexString(SHA256.HashData(bytes));
    }

    private static V1.WritebackResult Result(string requestId, bool replayed, long greenhouseId, long candidateId) =>
        new() { ClientRequestId = requestId, Replayed = replayed, GreenhouseId = greenhouseId, CandidateId = candidateId };

    private static long? Optional(long value) => value == 0 ? null : value;

    private static RpcException Invalid(string field, string problem) => new(new Status(StatusCode.InvalidArgument, $"{field}: {problem}"));

    private static void RequireId(string id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            throw Invalid("client_request_id", "is required; send a unique id per write and reuse it when retrying");
        }
        if (id.Length > MaxRequestIdLength || id.Any(char.IsControl))
        {
            throw Invalid("client_request_id", $"must be at most {MaxRequestIdLength} printable characters");
        }
    }

    private static void RequireCandidate(long candidateId)
    {
        if (candidateId <= 0)
        {
            throw Invalid("candidate_id", "must be a positive Greenhouse candidate id");
        }
    }

    private static void RequireText(string field, string value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw Invalid(field, "is required");
        }
        if (value.Length > maxLength)
        {
            throw Invalid(field, $"is longer than {maxLength} characters");
        }
    }

    private static void RequireEmail(string field, string value)
    {
        RequireText(field, value, 320);
        var at = value.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at == value.Length - 1 || value.Any(char.IsWhiteSpace))
        {
            throw Invalid(field, $"'{value}' is not an e-mail address");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Write-back {Operation} {RequestId} was already applied in Greenhouse ({GreenhouseId}); not sent again")]
    private static partial void LogReconciled(ILogger logger, string operation, string requestId, long greenhouseId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Write-back {Operation} {RequestId} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string operation, string requestId, string error);
}
