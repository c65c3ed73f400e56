using System.Globalization;
using System.Text.Json;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Webhooks;

namespace Greenhouse.Receiver.Processing;

/// <summary>
/// Turns a stored webhook body into changes to the candidate mirror. Webhook bodies are partial
/// views: fields that are present (even null) replace the mirrored value, absent fields keep it,
/// unknown fields are ignored, and a field of an unexpected type is ignored too (Greenhouse's
/// JSON is read tolerantly: only what the mirror cannot do without makes an event poison).
/// Pure: the same body and mirror state always give the same result or the same exception.
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
                return [Upsert(RequireObject(payload, "candidate", action), null, action, current, now)];
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
                    return [Upsert(candidate, application, action, current, now)];
                }
                // Jobs, offers, offices, scorecards...: recorded, nothing to mirror.
                return [];
        }
    }

    private static MirrorChange Upsert(JsonElement json, JsonElement? application, string action, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        var id = RequireId(json, "id", "candidate");
        var old = current(id) ?? new CandidateRecord { Id = id };
        var applicationIds = old.ApplicationIds;
        var applications = old.Applications;
        var lastActivity = Latest(old.LastActivityAt, Time(json, "last_activity", null));
        if (application is { } app && Id(app, "id") is { } appId)
        {
            if (!applicationIds.Contains(appId))
            {
                applicationIds = [.. applicationIds, appId];
            }
            var before = applications.FirstOrDefault(a => a.Id == appId);
            var read = ReadApplication(app, appId, action, before);
            applications = before is null ? [.. applications, read] : [.. applications.Select(a => a.Id == appId ? read : a)];
            lastActivity = Latest(lastActivity, read.LastActivityAt);
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
            ApplicationIds = applicationIds,
            Applications = applications,
            LastActivityAt = lastActivity,
            UpdatedAt = now,
        };
        // Greenhouse sends a profile again after anonymising it only with the anonymised values;
        // re-applying keeps an older, delayed delivery from bringing scrubbed data back.
        if (updated.AnonymizedFields.Count > 0)
        {
            updated = CandidateAnonymization.Apply(updated, updated.AnonymizedFields);
        }
        return new MirrorChange(CandidateChangeKind.Upserted, id, updated);
    }

    private static ApplicationRecord ReadApplication(JsonElement json, long id, string action, ApplicationRecord? old)
    {
        old ??= new ApplicationRecord { Id = id };
        var status = Text(json, "status", null) ?? action switch
        {
            // hire_candidate's documented body has no status; the action says it.
            "hire_candidate" => "hired",
            "reject_candidate" => "rejected",
            "unhire_candidate" or "unreject_candidate" or WebhookActions.NewCandidateApplication or WebhookActions.NewProspectApplication => "active",
            _ => old.Status,
        };
        return old with
        {
            Status = status,
            Prospect = json.TryGetProperty("prospect", out var prospect) && prospect.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? prospect.ValueKind == JsonValueKind.True : old.Prospect || action == WebhookActions.NewProspectApplication,
            RejectionReason = json.TryGetProperty("rejection_reason", out var reason)
                ? reason.ValueKind switch
                {
                    JsonValueKind.Object => Text(reason, "name", null),
                    JsonValueKind.String => StringOf(reason),
                    JsonValueKind.Null => null,
                    _ => old.RejectionReason,
                }
                : old.RejectionReason,
            RejectedAt = Time(json, "rejected_at", old.RejectedAt),
            JobIds = JobIds(json) ?? old.JobIds,
            Source = json.TryGetProperty("source", out var source)
                ? source.ValueKind switch
                {
                    JsonValueKind.Object => Text(source, "public_name", null) ?? Text(source, "name", null),
                    JsonValueKind.Null => null,
                    _ => old.Source,
                }
                : old.Source,
            AppliedAt = Time(json, "applied_at", old.AppliedAt),
            LastActivityAt = Time(json, "last_activity_at", old.LastActivityAt),
        };
    }

    /// <summary><c>jobs[].id</c>, else the deprecated <c>job.id</c>, else <c>job_id</c>; null when the body names none.</summary>
    private static List<long>? JobIds(JsonElement application)
    {
        if (application.TryGetProperty("jobs", out var jobs) && jobs.ValueKind == JsonValueKind.Array)
        {
            return [.. jobs.EnumerateArray().Select(j => Id(j, "id")).OfType<long>().Distinct()];
        }
        if (TryGetObject(application, "job", out var job) && Id(job, "id") is { } jobId)
        {
            return [jobId];
        }
        return Id(application, "job_id") is { } single ? [single] : null;
    }

    private static List<MirrorChange> Merge(JsonElement payload, string action, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        // Documented shape: payload.person is the record that goes away, and carries the winner's id.
        var person = RequireObject(payload, "person", action);
        var loserId = RequireId(person, "id", action);
        var winnerId = Id(person, "new_candidate_id") ?? throw new PoisonEventException($"{action} has no numeric payload.person.new_candidate_id");
        if (winnerId == loserId)
        {
            throw new PoisonEventException($"{action} merges candidate {loserId} into itself");
        }
        var loser = current(loserId);
        var winner = current(winnerId);
        // Always recorded, also for a loser the mirror never saw: its id must answer with the winner.
        var changes = new List<MirrorChange> { new(CandidateChangeKind.Merged, loserId, null, winnerId) };
        if (winner is null)
        {
            // The winner is not mirrored yet: nothing is guessed from the loser; its own event
            // (or, in Harvest mode, the hydration this merge queues) brings the record.
            return changes;
        }
        // Greenhouse moves the loser's applications to the winner, except those it lists as deleted.
        var deleted = person.TryGetProperty("deleted_application_ids", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(NumberOf).OfType<long>().ToHashSet() : [];
        var moved = loser?.Applications.Where(a => !deleted.Contains(a.Id) && winner.Applications.All(w => w.Id != a.Id)).ToList() ?? [];
        var updated = winner with
        {
            ApplicationIds = [.. winner.ApplicationIds.Union((loser?.ApplicationIds ?? []).Where(a => !deleted.Contains(a)))],
            Applications = [.. winner.Applications, .. moved],
            MergedCandidateIds = [.. winner.MergedCandidateIds.Union(loser?.MergedCandidateIds ?? []).Append(loserId).Distinct()],
            LastActivityAt = Latest(winner.LastActivityAt, loser?.LastActivityAt),
            UpdatedAt = now,
        };
        changes.Add(new MirrorChange(CandidateChangeKind.Upserted, winnerId, updated));
        return changes;
    }

    private static List<MirrorChange> Anonymize(JsonElement payload, string action, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        var id = Id(payload, "candidate_id") ?? throw new PoisonEventException($"{action} has no numeric payload.candidate_id");
        var fields = payload.TryGetProperty("anonymized_fields", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(StringOf).OfType<string>().Where(f => f.Length > 0).ToList()
            : throw new PoisonEventException($"{action} has no anonymized_fields list");
        if (current(id) is not { } candidate)
        {
            return [];
        }
        candidate = CandidateAnonymization.Apply(candidate, fields) with
        {
            AnonymizedFields = [.. candidate.AnonymizedFields.Union(fields, StringComparer.Ordinal)],
            UpdatedAt = now,
        };
        return [new MirrorChange(CandidateChangeKind.Anonymized, id, candidate)];
    }

    private static List<MirrorChange> DeleteApplication(JsonElement payload, Func<long, CandidateRecord?> current, DateTimeOffset now)
    {
        if (!TryGetObject(payload, "application", out var application)
            || Id(application, "candidate_id") is not { } candidateId
            || Id(application, "id") is not { } applicationId
            || current(candidateId) is not { } candidate
            || (!candidate.ApplicationIds.Contains(applicationId) && candidate.Applications.All(a => a.Id != applicationId)))
        {
            return [];
        }
        var updated = candidate with
        {
            ApplicationIds = [.. candidate.ApplicationIds.Where(a => a != applicationId)],
            Applications = [.. candidate.Applications.Where(a => a.Id != applicationId)],
            UpdatedAt = now,
        };
        return [new MirrorChange(CandidateChangeKind.Upserted, candidateId, updated)];
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

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

    private static long? Id(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? NumberOf(value) : null;

    private static long? NumberOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var n) => n,
        JsonValueKind.String when long.TryParse(StringOf(value), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
        _ => null,
    };

    /// <summary>The string, or null when it is not a string or not valid Unicode (e.g. a lone surrogate escape such as <c>\ud800</c>).</summary>
    private static string? StringOf(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement element, string name, string? fallback) => Text(element, name, fallback, fallback);

    /// <param name="same">Returned instead of a new string when the value is equal to it: an update keeps the
    /// strings of the record it replaces that did not change (fewer allocations, and fewer new objects that
    /// survive a collection while the record is cached).</param>
    private static string? Text(JsonElement element, string name, string? fallback, string? same)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        return value.ValueKind switch
        {
            JsonValueKind.String => Same(value, same) ?? StringOf(value) ?? fallback,
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.Null => null,
            _ => fallback,
        };
    }

    /// <summary>
    /// <paramref name="same"/> when the JSON string <paramref name="value"/> is equal to it (compared unescaped,
    /// nothing allocated), else null; also null for a string that cannot be read (a lone surrogate escape),
    /// which <see cref="StringOf"/> then reads as no value.
    /// </summary>
    private static string? Same(JsonElement value, string? same)
    {
        if (same is null || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        try
        {
            return value.ValueEquals(same) ? same : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static DateTimeOffset? Time(JsonElement element, string name, DateTimeOffset? fallback)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return DateTimeOffset.TryParse(StringOf(value), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : fallback;
    }

    private static IReadOnlyList<ContactEntry> Contacts(JsonElement element, string name, IReadOnlyList<ContactEntry> fallback)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            return value.ValueKind == JsonValueKind.Null ? [] : fallback;
        }
        return KeepingUnchanged(value, fallback, static (item, old) =>
        {
            var (text, type) = item.ValueKind switch
            {
                JsonValueKind.String => (Same(item, old?.Value) ?? StringOf(item), null),
                JsonValueKind.Object => (Text(item, "value", null, old?.Value), Text(item, "type", null, old?.Type)),
                _ => (null, null),
            };
            return string.IsNullOrWhiteSpace(text) ? null
                : old is not null && ReferenceEquals(old.Value, text) && ReferenceEquals(old.Type, type) ? old
                : new ContactEntry(text, type);
        });
    }

    private static IReadOnlyList<string> Strings(JsonElement element, string name, IReadOnlyList<string> fallback)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            return value.ValueKind == JsonValueKind.Null ? [] : fallback;
        }
        return KeepingUnchanged(value, fallback, static (item, old) =>
        {
            var text = item.ValueKind == JsonValueKind.String ? Same(item, old) ?? StringOf(item) : Text(item, "name", null, old);
            return string.IsNullOrEmpty(text) ? null : text;
        });
    }

    /// <summary>
    /// The entries of a JSON array, read by <paramref name="read"/> (given the old list's entry at the same
    /// position; null skips the item), as the old list itself while every entry is the old one in order. The
    /// first entry that differs copies the prefix read so far, and the rest are added as read.
    /// </summary>
    private static IReadOnlyList<T> KeepingUnchanged<T>(JsonElement array, IReadOnlyList<T> old, Func<JsonElement, T?, T?> read)
        where T : class
    {
        List<T>? result = null;
        var count = 0;
        foreach (var item in array.EnumerateArray())
        {
            var before = count < old.Count ? old[count] : null;
            if (read(item, before) is not { } entry)
            {
                continue;
            }
            if (result is null && ReferenceEquals(entry, before))
            {
                count++;
                continue;
            }
            result ??= [.. old.Take(count)];
            result.Add(entry);
            count++;
        }
        return result ?? (count == old.Count ? old : [.. old.Take(count)]);
    }
}
