using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace Greenhouse.Harvest;

/// <summary>Harvest v3 client; obtain it from DI after <see cref="HarvestServiceCollectionExtensions.AddGreenhouseHarvest"/>.</summary>
public sealed partial class HarvestClient(HttpClient http, IOptions<HarvestOptions> options, HarvestStatus status, TimeProvider timeProvider, ILogger<HarvestClient> logger) : IHarvestClient
{
    private const int MaxIdsPerRequest = 50;

    public HarvestStatusSnapshot Status => status.Current;

    public async Task<HarvestCandidate?> GetCandidateAsync(long candidateId, CancellationToken cancellationToken = default)
    {
        var found = await GetCandidatesAsync([candidateId], cancellationToken).ConfigureAwait(false);
        return found.FirstOrDefault(c => c.Id == candidateId);
    }

    public async Task<IReadOnlyList<HarvestCandidate>> GetCandidatesAsync(IEnumerable<long> candidateIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidateIds);
        var result = new List<HarvestCandidate>();
        foreach (var chunk in candidateIds.Distinct().Chunk(MaxIdsPerRequest))
        {
            var url = $"candidates?ids={string.Join(',', chunk.Select(Format))}&per_page={MaxIdsPerRequest}";
            await foreach (var page in PagesAsync<HarvestCandidate>(url, HarvestScopes.CandidatesList, "get candidates", cancellationToken).ConfigureAwait(false))
            {
                result.AddRange(page);
            }
        }

        return result;
    }

    public IAsyncEnumerable<IReadOnlyList<HarvestCandidate>> ListCandidatesUpdatedSinceAsync(DateTimeOffset since, DateTimeOffset? until = null, CancellationToken cancellationToken = default)
    {
        var window = "gte|" + Format(since) + (until is { } end ? "|lte|" + Format(end) : string.Empty);
        return PagesAsync<HarvestCandidate>($"candidates?updated_at={Uri.EscapeDataString(window)}&per_page={PageSize}", HarvestScopes.CandidatesList, "list updated candidates", cancellationToken);
    }

    public IAsyncEnumerable<IReadOnlyList<HarvestCandidate>> ListCandidatesAsync(CancellationToken cancellationToken = default) =>
        PagesAsync<HarvestCandidate>($"candidates?per_page={PageSize}", HarvestScopes.CandidatesList, "list candidates", cancellationToken);

    public async IAsyncEnumerable<long> ListAllCandidateIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var page in PagesAsync<HarvestCandidate>($"candidates?per_page={PageSize}&fields=id", HarvestScopes.CandidatesList, "list candidate ids", cancellationToken).ConfigureAwait(false))
        {
            foreach (var candidate in page)
            {
                yield return candidate.Id;
            }
        }
    }

    public async Task<IReadOnlyList<HarvestNote>> ListNotesAsync(long candidateId, CancellationToken cancellationToken = default)
    {
        var notes = new List<HarvestNote>();
        await foreach (var page in PagesAsync<HarvestNote>($"notes?candidate_ids={Format(candidateId)}&per_page={PageSize}", HarvestScopes.NotesList, "list notes", cancellationToken).ConfigureAwait(false))
        {
            notes.AddRange(page);
        }

        return notes;
    }

    public Task<HarvestNote> AddNoteAsync(HarvestNoteRequest note, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(note);
        var body = new
        {
            note.CandidateId,
            note.ApplicationId,
            UserId = options.Value.SyncUserId,
            Type = "NOTE",
            note.Body,
            note.Visibility,
        };
        return SendAsync<HarvestNote>(HttpMethod.Post, "notes", body, HarvestScopes.NotesCreate, "add note", cancellationToken);
    }

    public Task<HarvestNote> AddEmailNoteAsync(HarvestEmailNoteRequest email, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        var body = new
        {
            email.CandidateId,
            UserId = options.Value.SyncUserId,
            Type = "EMAIL",
            Visibility = "admin_only_visible",
            email.Subject,
            email.Body,
            EmailFrom = email.From,
            EmailTo = email.To,
            EmailCc = email.Cc ?? [],
        };
        return SendAsync<HarvestNote>(HttpMethod.Post, "notes", body, HarvestScopes.NotesCreate, "add e-mail note", cancellationToken);
    }

    public async Task<IReadOnlyList<HarvestAppliedCandidateTag>> AddTagsAsync(long candidateId, IEnumerable<string> tagNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tagNames);
        var wanted = tagNames.Select(n => n.Trim()).Where(n => n.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (wanted.Count == 0)
        {
            return [];
        }

        var tagIds = await TagIdsByNameAsync(cancellationToken).ConfigureAwait(false);
        var applied = await AppliedTagsAsync(candidateId, cancellationToken).ConfigureAwait(false);
        var result = new List<HarvestAppliedCandidateTag>();
        foreach (var name in wanted)
        {
            if (!tagIds.TryGetValue(name, out var tagId))
            {
                var created = await SendAsync<HarvestCandidateTag>(HttpMethod.Post, "candidate_tags", new { Name = name }, HarvestScopes.CandidateTagsCreate, "create tag", cancellationToken).ConfigureAwait(false);
                tagId = created.Id;
            }

            var existing = applied.FirstOrDefault(a => a.CandidateTagId == tagId);
            result.Add(existing ?? await SendAsync<HarvestAppliedCandidateTag>(
                HttpMethod.Post, "applied_candidate_tags", new { CandidateId = candidateId, CandidateTagId = tagId }, HarvestScopes.AppliedCandidateTagsCreate, "tag candidate", cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    public async Task<bool> RemoveTagAsync(long candidateId, string tagName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tagName);
        var tagIds = await TagIdsByNameAsync(cancellationToken).ConfigureAwait(false);
        if (!tagIds.TryGetValue(tagName.Trim(), out var tagId))
        {
            return false;
        }

        var removed = false;
        foreach (var row in (await AppliedTagsAsync(candidateId, cancellationToken).ConfigureAwait(false)).Where(a => a.CandidateTagId == tagId))
        {
            try
            {
                using var response = await SendRawAsync(HttpMethod.Delete, Resolve($"applied_candidate_tags/{Format(row.Id)}"), null, HarvestScopes.AppliedCandidateTagsDestroy, "untag candidate", cancellationToken).ConfigureAwait(false);
                removed = true;
            }
            catch (HarvestNotFoundException)
            {
                // Removed meanwhile by someone else: the outcome asked for holds.
            }
        }

        return removed;
    }

    public Task<HarvestApplication> AddProspectAsync(HarvestProspectRequest prospect, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prospect);
        var body = new
        {
            prospect.CandidateId,
            Prospect = true,
            prospect.JobIds,
            prospect.SourceId,
            prospect.ProspectPoolId,
            prospect.ProspectPoolStageId,
            prospect.ProspectOwnerId,
        };
        return SendAsync<HarvestApplication>(HttpMethod.Post, "applications", body, HarvestScopes.ApplicationsCreate, "add prospect", cancellationToken);
    }

    public IAsyncEnumerable<HarvestCandidateTag> ListCandidateTagsAsync(CancellationToken cancellationToken = default) =>
        ItemsAsync<HarvestCandidateTag>($"candidate_tags?per_page={PageSize}", HarvestScopes.CandidateTagsList, "list tags", cancellationToken);

    public IAsyncEnumerable<HarvestApplication> ListApplicationsAsync(long candidateId, CancellationToken cancellationToken = default) =>
        ItemsAsync<HarvestApplication>($"applications?candidate_ids={Format(candidateId)}&per_page={PageSize}", HarvestScopes.ApplicationsList, "list applications", cancellationToken);

    public IAsyncEnumerable<HarvestUser> ListUsersAsync(CancellationToken cancellationToken = default) =>
        ItemsAsync<HarvestUser>($"users?per_page={PageSize}", HarvestScopes.UsersList, "list users", cancellationToken);

    public IAsyncEnumerable<HarvestSource> ListSourcesAsync(CancellationToken cancellationToken = default) =>
        ItemsAsync<HarvestSource>($"sources?per_page={PageSize}", HarvestScopes.SourcesList, "list sources", cancellationToken);

    private int PageSize => Math.Clamp(options.Value.PageSize, 1, 500);

    private async Task<Dictionary<string, long>> TagIdsByNameAsync(CancellationToken cancellationToken)
    {
        var byName = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        await foreach (var tag in ListCandidateTagsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (tag.Name is { } name)
            {
                byName.TryAdd(name, tag.Id);
            }
        }

        return byName;
    }

    private async Task<List<HarvestAppliedCandidateTag>> AppliedTagsAsync(long candidateId, CancellationToken cancellationToken)
    {
        var rows = new List<HarvestAppliedCandidateTag>();
        await foreach (var row in ItemsAsync<HarvestAppliedCandidateTag>($"applied_candidate_tags?candidate_ids={Format(candidateId)}&per_page={PageSize}", HarvestScopes.AppliedCandidateTagsList, "list applied tags", cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        return rows;
    }

    private async IAsyncEnumerable<T> ItemsAsync<T>(string url, string scope, string operation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in PagesAsync<T>(url, scope, operation, cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in page)
            {
                yield return item;
            }
        }
    }

    private async IAsyncEnumerable<IReadOnlyList<T>> PagesAsync<T>(string firstUrl, string scope, string operation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Uri? next = Resolve(firstUrl);
        while (next is not null)
        {
            List<T> items;
            using (var response = await SendRawAsync(HttpMethod.Get, next, null, scope, operation, cancellationToken).ConfigureAwait(false))
            {
                items = await ReadAsync<List<T>>(response, operation, cancellationToken).ConfigureAwait(false) ?? [];
                next = LinkHeader.FindNext(response.Headers) is { } link ? NextPage(link, next) : null;
            }

            yield return items;
        }
    }

    // The cursor URL is followed exactly as sent (Harvest refuses a cursor combined with other parameters),
    // and only on Harvest's own origin so the bearer token never leaves for another host.
    private Uri NextPage(string link, Uri current)
    {
        var next = Uri.TryCreate(link, UriKind.Absolute, out var absolute) ? absolute : new Uri(current, link);
        var origin = options.Value.BaseUrl;
        if (Uri.Compare(next, origin, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            throw new HarvestException($"Harvest sent a next-page link to another origin ({next.GetLeftPart(UriPartial.Authority)}); refusing to follow it.");
        }

        return next;
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string relativeUrl, object body, string scope, string operation, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, Resolve(relativeUrl), body, scope, operation, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<T>(response, operation, cancellationToken).ConfigureAwait(false)
            ?? throw new HarvestException($"Harvest answered {operation} with an empty body.");
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, Uri uri, object? body, string scope, string operation, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, HarvestJson.Options), Encoding.UTF8, "application/json");
        }

        var started = timeProvider.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HarvestException e)
        {
            status.Completed(operation, e.StatusCode, timeProvider.GetElapsedTime(started));
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or TimeoutRejectedException or OperationCanceledException)
        {
            var message = $"Harvest could not be reached for {operation}: {e.Message}";
            status.CallFailed(message);
            status.Completed(operation, null, timeProvider.GetElapsedTime(started));
            LogUnavailable(logger, operation, e.GetType().Name);
            throw new HarvestUnavailableException(message, e);
        }

        status.Completed(operation, response.StatusCode, timeProvider.GetElapsedTime(started));
        if (response.IsSuccessStatusCode)
        {
            status.CallSucceeded(scope);
            return response;
        }

        using (response)
        {
            var error = await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            var exception = Classify(response, error, scope, operation);
            if (exception is HarvestUnauthorizedException)
            {
                // Even a freshly issued token was refused: the credential no longer works.
                status.AuthenticationFailed(exception.Message);
            }
            else
            {
                status.CallFailed(exception.Message, exception is HarvestForbiddenException { Scope: { } missing } ? missing : null);
            }

            LogRefused(logger, operation, (int)response.StatusCode);
            throw exception;
        }
    }

    internal static HarvestException Classify(HttpResponseMessage response, HarvestErrorBody error, string scope, string operation)
    {
        var detail = error.Errors.Count > 0 ? string.Join("; ", error.Errors.Select(e => e.Field is null ? e.Message : $"{e.Field}: {e.Message}")) : error.Message;
        var suffix = string.IsNullOrEmpty(detail) ? "." : $": {detail}";
        switch (response.StatusCode)
        {
            case HttpStatusCode.Unauthorized:
                return new HarvestUnauthorizedException($"Harvest refused the access token for {operation} (401){suffix}");
            case HttpStatusCode.Forbidden when detail?.Contains("admin", StringComparison.OrdinalIgnoreCase) == true:
                return new HarvestForbiddenException($"Harvest refused {operation} for the sync user (403){suffix} List endpoints need a Site Admin as sub.");
            case HttpStatusCode.Forbidden:
                return new HarvestForbiddenException($"Harvest refused {operation}: the credential is missing scope {scope} (403){suffix}", scope);
            case HttpStatusCode.NotFound:
                return new HarvestNotFoundException($"Harvest found nothing for {operation} (404){suffix}");
            case HttpStatusCode.UnprocessableContent or HttpStatusCode.BadRequest:
                return new HarvestValidationException($"Harvest rejected {operation} ({(int)response.StatusCode}){suffix}", error.Errors.Count > 0 ? error.Errors : [new HarvestFieldError(null, detail ?? "invalid request")]);
            case HttpStatusCode.TooManyRequests:
                return new HarvestRateLimitedException($"Harvest kept rate-limiting {operation} (429).", response.Headers.RetryAfter?.Delta);
            default:
                return new HarvestUnavailableException($"Harvest failed {operation} ({(int)response.StatusCode}){suffix}", response.StatusCode);
        }
    }

    private static async Task<HarvestErrorBody> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return HarvestErrorBody.Parse(text);
    }

    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return default;
        }

        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync<T>(stream, HarvestJson.Options, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (JsonException e)
        {
            throw new HarvestException($"Harvest answered {operation} with JSON this client cannot read: {e.Message}", e);
        }
    }

    private Uri Resolve(string relativeUrl) => new(options.Value.BaseUrl.AbsoluteUri.TrimEnd('/') + "/" + relativeUrl);

    private static string Format(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Harvest could not be reached for {Operation} ({Failure})")]
    private static partial void LogUnavailable(ILogger logger, string operation, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Harvest refused {Operation} with status {Status}")]
    private static partial void LogRefused(ILogger logger, string operation, int status);
}
