using System.Data.Common;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Grpc.Core;
using V1 = Greenhouse.Contracts.Receiver.V1;

namespace Greenhouse.Receiver.Api;

/// <summary>greenhouse.receiver.v1.Candidates over the in-memory mirror and the change log.</summary>
public sealed class CandidatesApi : V1.Candidates.CandidatesBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;
    private const int ReplayPage = 500;

    private readonly CandidateMirror _mirror;
    private readonly ReceiverOptions _options;
    private readonly TimeProvider _time;

    public CandidatesApi(CandidateMirror mirror, ReceiverOptions options, TimeProvider time)
    {
        _mirror = mirror;
        _options = options;
        _time = time;
    }

    public override Task<V1.Candidate> Get(V1.GetCandidateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_mirror.Get(request.Id) is { } candidate)
        {
            return Task.FromResult(Message(candidate));
        }
        // A merged-away id answers with the winner's record (documented in candidates.proto).
        if (_mirror.SurvivorOf(request.Id) is { } survivorId)
        {
            return _mirror.Get(survivorId) is { } survivor
                ? Task.FromResult(Message(survivor))
                : throw new RpcException(new Status(StatusCode.NotFound, $"candidate {request.Id} was merged into {survivorId}, which is not in the mirror yet"));
        }
        throw new RpcException(new Status(StatusCode.NotFound, $"candidate {request.Id} is not in the mirror"));
    }

    public override Task<V1.QueryCandidatesResponse> Query(V1.QueryCandidatesRequest request, ServerCallContext context) =>
        Task.FromResult(QueryCore(request));

    /// <summary>The query itself, synchronous (the benchmark measures this path).</summary>
    internal V1.QueryCandidatesResponse QueryCore(V1.QueryCandidatesRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var size = PageSize(request.PageSize);
        var after = PageToken(request.PageToken);
        if (request.RejectedMoreThanDaysAgo < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "rejected_more_than_days_ago must not be negative"));
        }
        var query = new CandidateQuery
        {
            RejectedBefore = request.RejectedMoreThanDaysAgo > 0 ? _time.GetUtcNow().AddDays(-request.RejectedMoreThanDaysAgo) : null,
            Tag = request.Tag is { Length: > 0 } tag ? tag : null,
            NoActiveApplication = request.NoActiveApplication,
            Source = request.Source is { Length: > 0 } source ? source : null,
        };
        var page = _mirror.Query(query, after, size + 1);
        var response = new V1.QueryCandidatesResponse();
        response.Candidates.Add(page.Take(size).Select(Message));
        if (page.Count > size)
        {
            response.NextPageToken = page[size - 1].Id.ToString(CultureInfo.InvariantCulture);
        }
        return response;
    }

    public override Task<V1.LookupCandidatesResponse> Lookup(V1.LookupCandidatesRequest request, ServerCallContext context) =>
        Task.FromResult(LookupCore(request));

    /// <summary>The lookup itself, synchronous (the benchmark measures this path).</summary>
    internal V1.LookupCandidatesResponse LookupCore(V1.LookupCandidatesRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Email.Count + request.ProfileUrl.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "give at least one email or profile_url"));
        }
        var response = new V1.LookupCandidatesResponse();
        foreach (var email in request.Email)
        {
            Match(response, email, LookupKeyNormalizer.Email(email), V1.MatchKind.Email);
        }
        foreach (var url in request.ProfileUrl)
        {
            Match(response, url, LookupKeyNormalizer.ProfileUrl(url), V1.MatchKind.ProfileUrl);
        }
        return response;
    }

    public override Task<V1.ListCandidatesResponse> List(V1.ListCandidatesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var size = PageSize(request.PageSize);
        var after = PageToken(request.PageToken);
        var page = _mirror.Page(after, size + 1, request.UpdatedSince?.ToDateTimeOffset());
        var response = new V1.ListCandidatesResponse();
        response.Candidates.Add(page.Take(size).Select(Message));
        if (page.Count > size)
        {
            response.NextPageToken = page[size - 1].Id.ToString(CultureInfo.InvariantCulture);
        }
        return Task.FromResult(response);
    }

    private static int PageSize(int requested)
    {
        if (requested is < 0 or > MaxPageSize)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"page_size must be between 1 and {MaxPageSize}"));
        }
        return requested == 0 ? DefaultPageSize : requested;
    }

    private static long PageToken(string token)
    {
        long after = 0;
        if (token.Length > 0 && !long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "page_token is not one this server returned"));
        }
        return after;
    }

    private V1.Candidate Message(CandidateRecord candidate) => CandidateMessages.ToMessage(candidate, _options.SsoDomain, _mirror.MergedInto(candidate.Id));

    public override async Task WatchChanges(V1.WatchChangesRequest request, IServerStreamWriter<V1.CandidateChange> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var cancellation = context.CancellationToken;
        var last = request.AfterChangeNumber;
        using var log = OpenChangeLog();
        if (last > 0 && log.FirstRetained() is { } first && first > last + 1)
        {
            throw new RpcException(new Status(StatusCode.OutOfRange,
                $"changes up to {first - 1} were pruned by retention; re-list the candidates and watch from {first - 1}"));
        }
        while (!cancellation.IsCancellationRequested)
        {
            // Read the log rather than live notifications: a resumed or slow watcher never misses a change.
            var batch = log.Read(last, ReplayPage).Select(ToMessage).ToList();
            foreach (var change in batch)
            {
                await responseStream.WriteAsync(change, cancellation).ConfigureAwait(false);
                last = change.ChangeNumber;
            }
            if (batch.Count < ReplayPage)
            {
                await _mirror.WaitForChangeAfterAsync(last, cancellation).ConfigureAwait(false);
            }
        }
    }

    private void Match(V1.LookupCandidatesResponse response, string query, LookupKey? key, V1.MatchKind kind)
    {
        if (key is not { } valid)
        {
            response.InvalidQueries.Add(query);
            return;
        }
        foreach (var candidate in _mirror.Find(valid))
        {
            response.Matches.Add(new V1.LookupMatch
            {
                Query = query,
                MatchedKey = valid.ToString(),
                Kind = kind,
                Candidate = Message(candidate),
            });
        }
    }

    private ChangeLogReader OpenChangeLog()
    {
        try
        {
            return ChangeLogReader.Open(_options);
        }
        catch (DbException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"the receiver database cannot be read ({ex.Message})"));
        }
    }

    private V1.CandidateChange ToMessage(MirrorChange entry)
    {
        var change = new V1.CandidateChange
        {
            ChangeNumber = entry.ChangeNumber,
            CandidateId = entry.CandidateId,
            Kind = (V1.ChangeKind)(int)entry.Kind,
            MergedIntoId = entry.MergedInto ?? 0,
            ChangedAt = Timestamp.FromDateTimeOffset(entry.ChangedAt),
        };
        if (entry.Candidate is { } candidate)
        {
            change.Candidate = Message(candidate);
        }
        return change;
    }
}
