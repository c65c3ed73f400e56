using System.Globalization;
using System.Text.Json;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Webhooks;

namespace Greenhouse.Receiver.Processing;

/// <summary>
/// Turns a stored webhook body into changes to the candidate mirror. Webhook bodies are partial
/// views: fields that are present (even null) replace the mirrored value, absent fields keep it,
/// unknown fields are ignored.
/// </summary>
public static class WebhookEventInterpreter
{
    /// <summary>The candidate an event is about, used to keep events of one candidate in order.</summary>
    public static long? CandidateIdOf(string action, JsonElement root)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!TryGetObject(root, "payload", out var payload))
        {
            return null;
        }
        if (TryGetObject(payload, "application", out var application))
        {
            if (TryGetObject(application, "candidate", out var nested) && Id(nested, "id") is { } nestedId)
            {
                return nestedId;
            }
            return Id(application, "candidate_id");
        }
        foreach (var name in (ReadOnlySpan<string>)["candidate", "person", "scorecard", "interview"])
        {
            if (TryGetObject(payload, name, out var inner) && Id(inner, name is "candidate" or "person" ? "id" : "candidate_id") is { } id)
            {
                return id;
            }
        }
        return Id(payload, "candidate_id");
    }

    public static IReadOnlyList<MirrorChange> Interpret(string action, JsonElement root, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (!TryGetObject(root, "payload", out var payload))
        {
            throw new PoisonEventException($"{action} has no payload object");
        }
        switch (action)
        {
            case WebhookActions.UpdateCandidate:
                return [Upsert(RequireObject(payload, "candidate", action), null, current, now)];
            case WebhookActions.DeleteCandidate:
                {
                    var id = RequireId(RequireObject(payload, "person", action), "id", action);
                    return current(id) is null ? [] : [new MirrorChange(CandidateChangeKind.Deleted, id, null)];
                }
            case WebhookActions.MergeCandidate:
                return Merge(payload, action, current, now);
            case WebhookActions.CandidateAnonymized:
                return Anonymize(payload, action, current, now);
            case WebhookActions.DeleteApplication:
                return DeleteApplication(payload, current, now);
            default:
                if (TryGetObject(payload, "application", out var application) && TryGetObject(application, "candidate", out var candidate))
                {
                    return [Upsert(candidate, Id(application, "id"), current, now)];
                }
                // Jobs, offers, offices, scorecards...: recorded, nothing to mirror.
                return [];
        }
    }

    private static MirrorChange Upsert(JsonElement json, long? applicationId, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        var id = RequireId(json, "id", "candidate");
        var old = current(id) ?? new CandidateRecord { Id = id };
        var applications = old.ApplicationIds;
        if (applicationId is { } app && !applications.Contains(app))
        {
            applications = [.. applications, app];
        }
        var updated = old with
        {
            FirstName = Text(json, "first_name", old.FirstName),
            LastName = Text(json, "last_name", old.LastName),
            Company = Text(json, "company", old.Company),
            Title = Text(json, "title", old.Title),
            Url = Text(json, "url", old.Url),
            CreatedAt = Time(json, "created_at", old.CreatedAt),
            EmailAddresses = Contacts(json, "email_addresses", old.EmailAddresses),
            PhoneNumbers = Contacts(json, "phone_numbers", old.PhoneNumbers),
            WebsiteAddresses = Contacts(json, "website_addresses", old.WebsiteAddresses),
            SocialMediaAddresses = Contacts(json, "social_media_addresses", old.SocialMediaAddresses),
            Tags = Strings(json, "tags", old.Tags),
            ApplicationIds = applications,
            UpdatedAt = now,
        };
        return new MirrorChange(CandidateChangeKind.Upserted, id, updated);
    }

    private static List<MirrorChange> Merge(JsonElement payload, string action, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        var loserId = RequireId(RequireObject(payload, "person", action), "id", action);
        var survivorId = Id(payload, "new_candidate_id") ?? throw new PoisonEventException($"{action} has no numeric payload.new_candidate_id");
        if (survivorId == loserId)
        {
            throw new PoisonEventException($"{action} merges candidate {loserId} into itself");
        }
        var loser = current(loserId);
        var survivor = current(survivorId);
        var changes = new List<MirrorChange> { new(CandidateChangeKind.Merged, loserId, null, survivorId) };
        if (loser is null && survivor is null)
        {
            return changes;
        }
        // Greenhouse folds the loser's contact details into the survivor; mirror that until Harvest says otherwise.
        var basis = survivor ?? loser! with { Id = survivorId, MergedCandidateIds = [], ApplicationIds = [] };
        var merged = basis with
        {
            EmailAddresses = Union(basis.EmailAddresses, loser?.EmailAddresses),
            WebsiteAddresses = Union(basis.WebsiteAddresses, loser?.WebsiteAddresses),
            SocialMediaAddresses = Union(basis.SocialMediaAddresses, loser?.SocialMediaAddresses),
            PhoneNumbers = Union(basis.PhoneNumbers, loser?.PhoneNumbers),
            ApplicationIds = [.. basis.ApplicationIds.Union(loser?.ApplicationIds ?? [])],
            MergedCandidateIds = [.. basis.MergedCandidateIds.Union(loser?.MergedCandidateIds ?? []).Append(loserId).Distinct()],
            UpdatedAt = now,
        };
        changes.Add(new MirrorChange(CandidateChangeKind.Upserted, survivorId, merged));
        return changes;
    }

    private static List<MirrorChange> Anonymize(JsonElement payload, string action, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        var id = Id(payload, "candidate_id") ?? throw new PoisonEventException($"{action} has no numeric payload.candidate_id");
        var fields = payload.TryGetProperty("anonymized_fields", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.String).Select(f => f.GetString()!).ToList()
            : throw new PoisonEventException($"{action} has no anonymized_fields list");
        if (current(id) is not { } candidate)
        {
            return [];
        }
        candidate = AnonymizedFields.Scrub(candidate, fields);
        candidate = candidate with { AnonymizedFields = [.. candidate.AnonymizedFields.Union(fields)], UpdatedAt = now };
        return [new MirrorChange(CandidateChangeKind.Anonymized, id, candidate)];
    }

    private static List<MirrorChange> DeleteApplication(JsonElement payload, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        if (!TryGetObject(payload, "application", out var application)
            || Id(application, "candidate_id") is not { } candidateId
            || Id(application, "id") is not { } applicationId
            || current(candidateId) is not { } candidate
            || !candidate.ApplicationIds.Contains(applicationId))
        {
            return [];
        }
        var updated = candidate with { ApplicationIds = [.. candidate.ApplicationIds.Where(a => a != applicationId)], UpdatedAt = now };
        return [new MirrorChange(CandidateChangeKind.Upserted, candidateId, updated)];
    }

    private static ContactEntry[] Union(IReadOnlyList<ContactEntry> first, IReadOnlyList<ContactEntry>? second) =>
        second is null ? [.. first] : [.. first.Concat(second).DistinctBy(c => c.Value, StringComparer.OrdinalIgnoreCase)];

    private static bool TryGetObject(JsonElement element, string name, out JsonElement value)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value) && value.ValueKind == JsonValueKind.Object)
        {
            return true;
        }
        value = default;
        return false;
    }

    private static JsonElement RequireObject(JsonElement element, string name, string action) =>
        TryGetObject(element, name, out var value) ? value : throw new PoisonEventException($"{action} has no {name} object");

    private static long RequireId(JsonElement element, string name, string what) =>
        Id(element, name) ?? throw new PoisonEventException($"{what} has no numeric {name}");

    private static long? Id(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var n) => n,
            JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
            _ => null,
        };
    }

    private static string? Text(JsonElement element, string name, string? fallback)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
    }

    private static DateTimeOffset? Time(JsonElement element, string name, DateTimeOffset? fallback)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        return value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time : null;
    }

    private static IReadOnlyList<ContactEntry> Contacts(JsonElement element, string name, IReadOnlyList<ContactEntry> fallback)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        var result = new List<ContactEntry>();
        foreach (var item in value.EnumerateArray())
        {
            switch (item.ValueKind)
            {
                case JsonValueKind.String when !string.IsNullOrWhiteSpace(item.GetString()):
                    result.Add(new ContactEntry(item.GetString()!, null));
                    break;
                case JsonValueKind.Object when Text(item, "value", null) is { Length: > 0 } text:
                    result.Add(new ContactEntry(text, Text(item, "type", null)));
                    break;
            }
        }
        return result;
    }

    private static IReadOnlyList<string> Strings(JsonElement element, string name, IReadOnlyList<string> fallback)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        return [.. value.EnumerateArray()
            .Select(item => item.ValueKind == JsonValueKind.String ? item.GetString() : Text(item, "name", null))
            .Where(s => !string.IsNullOrEmpty(s))
            .Select(s => s!)];
    }
}
