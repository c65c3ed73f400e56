using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace Sandbox.Greenhouse;

/// <summary>
/// The <c>/v3</c> routes: bearer check, per-client rate limit with <c>X-RateLimit-*</c> headers, faults,
/// per-route scope check (live, so a removed scope bites at once), Site Admin check on lists, then the
/// resource. Lists are bare JSON arrays in descending id order with an opaque cursor in
/// <c>Link: &lt;...&gt;; rel="next"</c>; a cursor with any other parameter is a 422.
/// </summary>
internal sealed partial class HarvestApi(
    GreenhouseSimulatorOptions options,
    SimulatorStore store,
    TokenService tokens,
    RateLimitTracker limits,
    SimulatorFaults faults,
    WebhookDispatcher webhooks,
    RequestLog log,
    Func<Uri> harvestBaseUrl)
{
    private const string CursorMessage = "When passing a cursor, do not include other query params.";
    private static readonly HashSet<string> CommonParameters = ["per_page", "ids", "created_at", "updated_at", "fields"];
    private static readonly Dictionary<string, HashSet<string>> ResourceParameters = new()
    {
        ["candidates"] = ["last_activity_at", "email", "tag", "private", "custom_field_option_id"],
        ["notes"] = ["candidate_ids", "application_ids", "user_ids", "type", "visibility"],
        ["candidate_tags"] = [],
        ["applied_candidate_tags"] = ["candidate_ids", "candidate_tag_ids"],
        ["users"] = ["show_service_accounts", "deactivated", "primary_email", "custom_field_option_id"],
        ["sources"] = [],
        ["applications"] = ["candidate_ids", "job_ids", "source_ids", "prospect", "status", "last_activity_at"],
    };

    private static readonly Dictionary<(string Method, string Resource), string> Scopes = new()
    {
        [("GET", "candidates")] = "harvest:candidates:list",
        [("GET", "notes")] = "harvest:notes:list",
        [("POST", "notes")] = "harvest:notes:create",
        [("GET", "candidate_tags")] = "harvest:candidate_tags:list",
        [("POST", "candidate_tags")] = "harvest:candidate_tags:create",
        [("GET", "applied_candidate_tags")] = "harvest:applied_candidate_tags:list",
        [("POST", "applied_candidate_tags")] = "harvest:applied_candidate_tags:create",
        [("DELETE", "applied_candidate_tags")] = "harvest:applied_candidate_tags:destroy",
        [("GET", "users")] = "harvest:users:list",
        [("GET", "sources")] = "harvest:sources:list",
        [("GET", "applications")] = "harvest:applications:list",
        [("POST", "applications")] = "harvest:applications:create",
    };

    private readonly Random random = new(options.Seed);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var now = options.TimeProvider.GetUtcNow();
        var target = request.Path.Value + request.QueryString.Value;
        var token = tokens.Validate(request.Headers.Authorization);
        if (token is null)
        {
            response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            await Errors(context, StatusCodes.Status401Unauthorized, "Unauthorized").ConfigureAwait(false);
            log.Add(new SimulatedRequest(now, request.Method, target, response.StatusCode, null, false));
            return;
        }

        if (faults.OutageStatus is { } outage)
        {
            await OutageAsync(context, outage).ConfigureAwait(false);
            log.Add(new SimulatedRequest(now, request.Method, target, response.StatusCode, token.ClientId, false));
            return;
        }

        var decision = limits.Check(token.ClientId, now, faults.TakeThrottle(), faults.ThrottleRetryAfter);
        response.Headers["X-RateLimit-Limit"] = options.RateLimit.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Reset"] = options.RateLimitResetFormat == RateLimitResetFormat.EpochSeconds
            ? ((decision.ResetAt.ToUnixTimeMilliseconds() + 999) / 1000).ToString(CultureInfo.InvariantCulture)
            : Math.Ceiling((decision.ResetAt - now).TotalSeconds).ToString(CultureInfo.InvariantCulture);
        try
        {
            if (!decision.Allowed)
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(decision.RetryAfter!.Value.TotalSeconds));
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await Errors(context, StatusCodes.Status429TooManyRequests, $"Rate limit exceeded. Retry after {seconds} seconds.").ConfigureAwait(false);
                return;
            }

            if (faults.Latency > TimeSpan.Zero)
            {
                await Task.Delay(faults.Latency, context.RequestAborted).ConfigureAwait(false);
            }

            if (faults.TakeDrop() || Chance(faults.DropConnectionShare))
            {
                context.Abort();
                return;
            }

            if (faults.TakeFailure() || Chance(faults.ServerErrorShare))
            {
                await Errors(context, StatusCodes.Status503ServiceUnavailable, "Service Unavailable").ConfigureAwait(false);
                return;
            }

            await RouteAsync(context, token).ConfigureAwait(false);
        }
        finally
        {
            log.Add(new SimulatedRequest(now, request.Method, target, context.RequestAborted.IsCancellationRequested ? 0 : response.StatusCode, token.ClientId, decision.DuringPenalty));
        }
    }

    private Task OutageAsync(HttpContext context, int status)
    {
        switch (status)
        {
            case StatusCodes.Status401Unauthorized:
                context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                return Errors(context, status, "Unauthorized");
            case StatusCodes.Status429TooManyRequests:
                var seconds = Math.Max(1, (int)Math.Ceiling(faults.ThrottleRetryAfter.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Errors(context, status, $"Rate limit exceeded. Retry after {seconds} seconds.");
            default:
                return Errors(context, status, "Service Unavailable");
        }
    }

    private bool Chance(double share)
    {
        if (share <= 0)
        {
            return false;
        }

        lock (random)
        {
            return random.NextDouble() < share;
        }
    }

    private async Task RouteAsync(HttpContext context, TokenService.IssuedToken token)
    {
        var segments = context.Request.Path.Value!["/v3/".Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = context.Request.Method.ToUpperInvariant();
        var resource = segments.Length > 0 ? segments[0] : string.Empty;
        if (resource == "webhooks")
        {
            await WebhooksAsync(context, token, method, segments).ConfigureAwait(false);
            return;
        }

        if (segments.Length > 2 || !Scopes.TryGetValue((method, resource), out var scope) || (segments.Length == 2) != (method == "DELETE"))
        {
            await Errors(context, StatusCodes.Status404NotFound, "Not Found").ConfigureAwait(false);
            return;
        }

        if (!(tokens.Client(token.ClientId)?.Scopes.Contains(scope) ?? false))
        {
            await Errors(context, StatusCodes.Status403Forbidden, $"Missing required scope: {scope}").ConfigureAwait(false);
            return;
        }

        if (method == "GET" && token.Sub is { } sub && !IsSiteAdmin(sub))
        {
            await Errors(context, StatusCodes.Status403Forbidden, "List endpoints require the user of this token to be a Site Admin.").ConfigureAwait(false);
            return;
        }

        switch (method)
        {
            case "GET":
                await ListAsync(context, resource).ConfigureAwait(false);
                break;
            case "DELETE":
                await DeleteAppliedTagAsync(context, segments[1]).ConfigureAwait(false);
                break;
            default:
                var body = await ReadBodyAsync(context).ConfigureAwait(false);
                if (body is null)
                {
                    await Errors(context, StatusCodes.Status400BadRequest, "The body must be a JSON object.").ConfigureAwait(false);
                    return;
                }

                var (status, result, events) = Create(resource, body, token);
                await WriteAsync(context, status, result).ConfigureAwait(false);
                foreach (var envelope in events)
                {
                    webhooks.Publish(envelope, WebhookSendMode.Send);
                }

                break;
        }
    }

    private bool IsSiteAdmin(long userId)
    {
        lock (store.Gate)
        {
            return store.Users.TryGetValue(userId, out var user) && user["site_admin"]?.GetValue<bool>() == true;
        }
    }

    private async Task ListAsync(HttpContext context, string resource)
    {
        var raw = context.Request.QueryString.Value is { Length: > 1 } q ? q[1..] : string.Empty;
        var incoming = QueryHelpers.ParseQuery(raw);
        string effective;
        long? after = null;
        if (incoming.ContainsKey("cursor"))
        {
            if (incoming.Count > 1 || !TryDecodeCursor(incoming["cursor"].ToString(), out effective, out var last))
            {
                await Errors(context, StatusCodes.Status422UnprocessableEntity, incoming.Count > 1 ? CursorMessage : "Invalid cursor.").ConfigureAwait(false);
                return;
            }

            after = last;
        }
        else
        {
            effective = raw;
        }

        var query = QueryHelpers.ParseQuery(effective);
        var allowed = ResourceParameters[resource];
        var unknown = query.Keys.Where(k => !CommonParameters.Contains(k) && !allowed.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            await Errors(context, StatusCodes.Status422UnprocessableEntity, $"Invalid query params: {string.Join(", ", unknown)}").ConfigureAwait(false);
            return;
        }

        var perPage = 100;
        if (query.TryGetValue("per_page", out var perPageText) && (!int.TryParse(perPageText, NumberStyles.None, CultureInfo.InvariantCulture, out perPage) || perPage is < 1 or > 500))
        {
            await Errors(context, StatusCodes.Status422UnprocessableEntity, "Invalid query params: per_page must be between 1 and 500").ConfigureAwait(false);
            return;
        }

        var filters = new List<Func<JsonObject, bool>>();
        foreach (var (key, value) in query.Where(p => p.Key is not ("per_page" or "fields")))
        {
            var filter = Filter(key, value.ToString());
            if (filter is null)
            {
                await Errors(context, StatusCodes.Status422UnprocessableEntity, $"Invalid query params: {key}").ConfigureAwait(false);
                return;
            }

            filters.Add(filter);
        }

        var fields = query.TryGetValue("fields", out var fieldList) ? fieldList.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
        using var buffer = new MemoryStream();
        long? nextAfter = null;
        lock (store.Gate)
        {
            var page = store.Resource(resource).Values
                .Where(item => after is null || GreenhouseJson.Id(item) < after)
                .Where(item => filters.TrueForAll(f => f(item)))
                .Take(perPage + 1)
                .ToList();
            if (page.Count > perPage)
            {
                page.RemoveAt(perPage);
                nextAfter = GreenhouseJson.Id(page[^1]);
            }

            using var writer = new Utf8JsonWriter(buffer);
            writer.WriteStartArray();
            foreach (var item in page)
            {
                Project(item, fields).WriteTo(writer);
            }

            writer.WriteEndArray();
        }

        if (nextAfter is { } lastId)
        {
            var baseUrl = (options.NextLinkBaseUrl ?? harvestBaseUrl()).AbsoluteUri.TrimEnd('/');
            context.Response.Headers.Link = $"<{baseUrl}/{resource}?cursor={EncodeCursor(effective, lastId)}>; rel=\"next\"";
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }

    private static JsonObject Project(JsonObject item, string[]? fields)
    {
        if (fields is null)
        {
            return item;
        }

        var projected = new JsonObject();
        foreach (var field in fields)
        {
            if (item.TryGetPropertyValue(field, out var value))
            {
                projected[field] = value?.DeepClone();
            }
        }

        return projected;
    }

    private static Func<JsonObject, bool>? Filter(string key, string value)
    {
        switch (key)
        {
            case "ids":
                return Ids(value) is { } ids ? item => ids.Contains(GreenhouseJson.Id(item)) : null;
            case "created_at" or "updated_at" or "last_activity_at":
                return DateWindow(key, value);
            case "email":
                return item => item["email_addresses"]?.AsArray().Any(e => string.Equals(e?["value"]?.GetValue<string>(), value, StringComparison.OrdinalIgnoreCase)) == true;
            case "tag":
                return item => item["tags"]?.AsArray().Any(t => t?.GetValue<string>() == value) == true;
            case "private":
                return bool.TryParse(value, out var includePrivate) ? item => includePrivate || item["private"]?.GetValue<bool>() != true : null;
            case "type" or "visibility" or "primary_email":
                return item => string.Equals(item[key]?.GetValue<string>(), value, StringComparison.OrdinalIgnoreCase);
            case "prospect" or "deactivated":
                return bool.TryParse(value, out var flag) ? item => (item[key]?.GetValue<bool>() ?? false) == flag : null;
            case "status":
                var status = value == "active" ? "in_process" : value;
                return status is "in_process" or "rejected" or "hired" or "converted" ? item => item["status"]?.GetValue<string>() == status : null;
            case "show_service_accounts" or "custom_field_option_id":
                return _ => true;
            default:
                // Parent filters: candidate_ids -> candidate_id, candidate_tag_ids -> candidate_tag_id, ...
                var field = key[..^1];
                return Ids(value) is { } parents ? item => item[field]?.GetValue<long>() is { } id && parents.Contains(id) : null;
        }
    }

    private static HashSet<long>? Ids(string value)
    {
        var ids = new HashSet<long>();
        foreach (var part in value.Split(','))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                return null;
            }

            ids.Add(id);
        }

        return ids.Count is > 0 and <= 50 ? ids : null;
    }

    private static Func<JsonObject, bool>? DateWindow(string field, string value)
    {
        var parts = value.Split('|');
        if (parts.Length is not (2 or 4))
        {
            return null;
        }

        var checks = new List<Func<DateTimeOffset, bool>>();
        for (var i = 0; i < parts.Length; i += 2)
        {
            if (!DateTimeOffset.TryParse(parts[i + 1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var bound))
            {
                return null;
            }

            Func<DateTimeOffset, bool>? check = parts[i] switch
            {
                "gte" => t => t >= bound,
                "gt" => t => t > bound,
                "lte" => t => t <= bound,
                "lt" => t => t < bound,
                _ => null,
            };
            if (check is null)
            {
                return null;
            }

            checks.Add(check);
        }

        return item => item[field] is not null && checks.TrueForAll(c => c(GreenhouseJson.ReadTime(item, field)));
    }

    private static string EncodeCursor(string query, long after) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(new JsonObject { ["q"] = query, ["a"] = after }.ToJsonString()));

    private static bool TryDecodeCursor(string cursor, out string query, out long after)
    {
        query = string.Empty;
        after = 0;
        try
        {
            var decoded = JsonNode.Parse(Base64Url.DecodeFromChars(cursor))?.AsObject();
            if (decoded?["q"]?.GetValue<string>() is not { } q || decoded["a"]?.GetValue<long>() is not { } a)
            {
                return false;
            }

            query = q;
            after = a;
            return true;
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The body attributes Harvest v3 documents for each write (strict mode refuses any other).</summary>
    private static readonly Dictionary<string, HashSet<string>> KnownProperties = new(StringComparer.Ordinal)
    {
        ["notes"] = ["candidate_id", "application_id", "user_id", "body", "visibility", "type", "subject", "email_from", "email_to", "email_cc"],
        ["candidate_tags"] = ["name"],
        ["applied_candidate_tags"] = ["candidate_id", "candidate_tag_id"],
        ["applications"] =
        [
            "candidate_id", "job_id", "job_ids", "prospect", "source_id", "referrer_id", "recruiter_id", "coordinator_id",
            "prospect_pool_id", "prospect_pool_stage_id", "prospect_owner_id", "initial_stage_id", "attachments",
        ],
    };

    private (int Status, JsonNode Body, List<JsonObject> Events) Create(string resource, JsonObject body, TokenService.IssuedToken token)
    {
        var events = new List<JsonObject>();
        var errors = new JsonArray();
        if (options.Strict && KnownProperties.TryGetValue(resource, out var known))
        {
            foreach (var unknown in body.Select(p => p.Key).Where(k => !known.Contains(k)))
            {
                errors.Add(FieldError(unknown, "is not an attribute of this request"));
            }
            if (errors.Count > 0)
            {
                return (StatusCodes.Status422UnprocessableEntity, Validation(errors), events);
            }
        }

        lock (store.Gate)
        {
            var now = options.TimeProvider.GetUtcNow();
            var candidateId = Long(body, "candidate_id");
            JsonObject? candidate = null;
            if (resource is "notes" or "applied_candidate_tags" or "applications" && (candidateId is null || !store.Candidates.TryGetValue(candidateId.Value, out candidate)))
            {
                errors.Add(FieldError("candidate_id", candidateId is null ? "is required" : "does not exist"));
                return (StatusCodes.Status422UnprocessableEntity, Validation(errors), events);
            }

            var record = store.NewRecord(now);
            switch (resource)
            {
                case "notes":
                    var type = Text(body, "type") ?? "NOTE";
                    var visibility = Text(body, "visibility") ?? "admin_only_visible";
                    if (string.IsNullOrWhiteSpace(Text(body, "body")))
                    {
                        errors.Add(FieldError("body", "can't be blank"));
                    }

                    if (type is not ("NOTE" or "EMAIL"))
                    {
                        errors.Add(FieldError("type", "must be NOTE or EMAIL"));
                    }

                    if (visibility is not ("admin_only_visible" or "privately_visible" or "publicly_visible"))
                    {
                        errors.Add(FieldError("visibility", "must be admin_only_visible, privately_visible or publicly_visible"));
                    }

                    if (type == "EMAIL" && (string.IsNullOrWhiteSpace(Text(body, "email_to")) || string.IsNullOrWhiteSpace(Text(body, "subject"))))
                    {
                        errors.Add(FieldError("email_to", "and subject are required for e-mail notes"));
                    }

                    if (errors.Count > 0)
                    {
                        return (StatusCodes.Status422UnprocessableEntity, Validation(errors), events);
                    }

                    record["candidate_id"] = candidateId;
                    record["application_id"] = Long(body, "application_id");
                    // v3 attributes writes to the token's user; a body user_id only counts for service-account tokens.
                    record["user_id"] = token.Sub ?? Long(body, "user_id");
                    record["body"] = Text(body, "body");
                    record["body_with_tags"] = Text(body, "body");
                    record["subject"] = Text(body, "subject");
                    record["type"] = type;
                    record["visibility"] = visibility;
                    record["email_from"] = Text(body, "email_from");
                    record["email_to"] = Text(body, "email_to");
                    record["email_cc"] = body["email_cc"]?.DeepClone() ?? new JsonArray();
                    store.Notes[GreenhouseJson.Id(record)] = record;
                    candidate!["last_activity_at"] = GreenhouseJson.Timestamp(now);
                    break;
                case "candidate_tags":
                    var name = Text(body, "name")?.Trim();
                    if (string.IsNullOrEmpty(name) || store.TagIdByName(name) is not null)
                    {
                        errors.Add(FieldError("name", string.IsNullOrEmpty(name) ? "can't be blank" : "has already been taken"));
                        return (StatusCodes.Status422UnprocessableEntity, Validation(errors), events);
                    }

                    record["name"] = name;
                    store.CandidateTags[GreenhouseJson.Id(record)] = record;
                    break;
                case "applied_candidate_tags":
                    var tagId = Long(body, "candidate_tag_id");
                    if (tagId is null || !store.CandidateTags.ContainsKey(tagId.Value))
                    {
                        errors.Add(FieldError("candidate_tag_id", "does not exist"));
                    }
                    else if (store.AppliedTags.Values.Any(a => a["candidate_id"]!.GetValue<long>() == candidateId && a["candidate_tag_id"]!.GetValue<long>() == tagId))
                    {
                        errors.Add(FieldError("candidate_tag_id", "is already applied to this candidate"));
                    }

                    if (errors.Count > 0)
                    {
                        return (StatusCodes.Status422UnprocessableEntity, Validation(errors), events);
                    }

                    record["candidate_tag_id"] = tagId;
                    record["candidate_id"] = candidateId;
                    store.AppliedTags[GreenhouseJson.Id(record)] = record;
                    store.RefreshTags(candidate!, now);
                    events.Add(WebhookPayloads.UpdateCandidate(candidate!));
                    break;
                default:
                    var prospect = body["prospect"]?.GetValueKind() == JsonValueKind.True;
                    if (!prospect && Long(body, "job_id") is null)
                    {
                        errors.Add(FieldError("job_id", "is required unless prospect is true"));
                        return (StatusCodes.Status422UnprocessableEntity, Validation(errors), events);
                    }

                    record["candidate_id"] = candidateId;
                    record["job_id"] = Long(body, "job_id");
                    record["job_post_id"] = null;
                    record["recruiter_id"] = Long(body, "recruiter_id");
                    record["coordinator_id"] = Long(body, "coordinator_id");
                    record["referrer_id"] = Long(body, "referrer_id");
                    record["source_id"] = Long(body, "source_id");
                    record["stage_id"] = null;
                    record["stage_name"] = null;
                    record["status"] = "in_process";
                    record["needs_decision"] = false;
                    record["prospect"] = prospect;
                    record["rejected_at"] = null;
                    record["last_activity_at"] = GreenhouseJson.Timestamp(now);
                    record["prospective_job_ids"] = prospect ? body["job_ids"]?.DeepClone() ?? new JsonArray() : new JsonArray();
                    record["custom_fields"] = new JsonObject();
                    store.Applications[GreenhouseJson.Id(record)] = record;
                    candidate!["last_activity_at"] = GreenhouseJson.Timestamp(now);
                    events.Add(WebhookPayloads.NewApplication(record, candidate));
                    break;
            }

            return (StatusCodes.Status201Created, record.DeepClone(), events);
        }
    }

    private async Task DeleteAppliedTagAsync(HttpContext context, string idText)
    {
        JsonObject? changed = null;
        var found = false;
        lock (store.Gate)
        {
            if (long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && store.AppliedTags.Remove(id, out var row))
            {
                found = true;
                if (store.Candidates.TryGetValue(row["candidate_id"]!.GetValue<long>(), out var candidate))
                {
                    store.RefreshTags(candidate, options.TimeProvider.GetUtcNow());
                    changed = WebhookPayloads.UpdateCandidate(candidate);
                }
            }
        }

        if (!found)
        {
            await Errors(context, StatusCodes.Status404NotFound, "Not Found").ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, StatusCodes.Status200OK, new JsonObject { ["message"] = $"Applied candidate tag {idText} has been deleted." }).ConfigureAwait(false);
        if (changed is not null)
        {
            webhooks.Publish(changed, WebhookSendMode.Send);
        }
    }

    private static async Task<JsonObject?> ReadBodyAsync(HttpContext context)
    {
        try
        {
            return await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static long? Long(JsonObject body, string name) =>
        body[name] is JsonValue value && value.TryGetValue<long>(out var number) ? number : null;

    private static string? Text(JsonObject body, string name) =>
        body[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static JsonObject FieldError(string field, string message) => new() { ["field"] = field, ["message"] = message };

    private static JsonObject Validation(JsonArray errors) => new() { ["message"] = "Validation error", ["errors"] = errors };

    private static Task Errors(HttpContext context, int status, string message) =>
        WriteAsync(context, status, new JsonObject { ["errors"] = new JsonArray { JsonValue.Create(message) } });

    private static Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
