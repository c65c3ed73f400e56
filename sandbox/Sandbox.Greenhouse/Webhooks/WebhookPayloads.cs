using System.Text.Json.Nodes;

namespace Sandbox.Greenhouse;

/// <summary>Builds webhook bodies in the v1 shapes Greenhouse still sends (e.g. <c>is_private</c>, <c>url</c>, <c>photo_url</c>).</summary>
internal static class WebhookPayloads
{
    public static JsonObject UpdateCandidate(JsonObject candidate) => Envelope("update_candidate", new JsonObject { ["candidate"] = V1Candidate(candidate) });

    public static JsonObject DeleteCandidate(JsonObject candidate) => Envelope("delete_candidate", new JsonObject
    {
        ["person"] = new JsonObject
        {
            ["id"] = candidate["id"]!.DeepClone(),
            ["first_name"] = candidate["first_name"]?.DeepClone(),
            ["last_name"] = candidate["last_name"]?.DeepClone(),
            ["company"] = candidate["company"]?.DeepClone(),
            ["title"] = candidate["title"]?.DeepClone(),
            ["created_at"] = candidate["created_at"]?.DeepClone(),
            ["is_private"] = candidate["private"]?.DeepClone(),
            ["can_email"] = candidate["can_email"]?.DeepClone(),
            ["deleted_application_ids"] = new JsonArray(),
        },
    });

    /// <summary>The documented "Candidate merged" shape: the removed record as <c>person</c>, the winner inside it as <c>new_candidate_id</c>.</summary>
    public static JsonObject MergeCandidate(JsonObject loser, long winnerId) => Envelope("merge_candidate", new JsonObject
    {
        ["person"] = new JsonObject
        {
            ["id"] = loser["id"]!.DeepClone(),
            ["first_name"] = loser["first_name"]?.DeepClone(),
            ["last_name"] = loser["last_name"]?.DeepClone(),
            ["company"] = loser["company"]?.DeepClone(),
            ["title"] = loser["title"]?.DeepClone(),
            ["created_at"] = loser["created_at"]?.DeepClone(),
            ["headline"] = null,
            ["is_private"] = loser["private"]?.DeepClone(),
            ["recruiter_user_id"] = null,
            ["coordinator_user_id"] = null,
            ["can_email"] = loser["can_email"]?.DeepClone(),
            ["new_candidate_id"] = winnerId,
        },
    });

    /// <summary>The documented "Candidate anonymized" shape.</summary>
    public static JsonObject CandidateAnonymized(long candidateId, IEnumerable<string> fields) => Envelope("candidate_anonymized", new JsonObject
    {
        ["candidate_id"] = candidateId,
        ["anonymized_fields"] = new JsonArray([.. fields.Select(f => (JsonNode)JsonValue.Create(f))]),
    });

    public static JsonObject NewApplication(JsonObject application, JsonObject candidate)
    {
        var prospect = application["prospect"]?.GetValue<bool>() == true;
        return Envelope(prospect ? "new_prospect_application" : "new_candidate_application", new JsonObject
        {
            ["application"] = new JsonObject
            {
                ["id"] = application["id"]!.DeepClone(),
                ["applied_at"] = application["created_at"]?.DeepClone(),
                ["prospect"] = prospect,
                ["status"] = "active",
                ["credited_to"] = null,
                ["source"] = null,
                ["jobs"] = new JsonArray(),
                ["candidate"] = V1Candidate(candidate),
            },
        });
    }

    public static JsonObject Ping(long webHookId, WebhookRegistration registration) => Envelope("ping", new JsonObject
    {
        ["web_hook_id"] = webHookId,
        ["name"] = registration.Name,
        ["endpoint"] = registration.Endpoint.ToString(),
    });

    public static JsonObject Envelope(string action, JsonObject payload) => new() { ["action"] = action, ["payload"] = payload };

    private static JsonObject V1Candidate(JsonObject candidate)
    {
        var id = candidate["id"]!.GetValue<long>();
        return new JsonObject
        {
            ["id"] = id,
            ["first_name"] = candidate["first_name"]?.DeepClone(),
            ["last_name"] = candidate["last_name"]?.DeepClone(),
            ["title"] = candidate["title"]?.DeepClone(),
            ["company"] = candidate["company"]?.DeepClone(),
            ["created_at"] = candidate["created_at"]?.DeepClone(),
            ["updated_at"] = candidate["updated_at"]?.DeepClone(),
            ["is_private"] = candidate["private"]?.DeepClone(),
            ["photo_url"] = null,
            ["url"] = $"https://app.greenhouse.io/people/{id}",
            ["phone_numbers"] = candidate["phone_numbers"]?.DeepClone(),
            ["email_addresses"] = candidate["email_addresses"]?.DeepClone(),
            ["addresses"] = candidate["addresses"]?.DeepClone(),
            ["website_addresses"] = candidate["website_addresses"]?.DeepClone(),
            ["social_media_addresses"] = candidate["social_media_addresses"]?.DeepClone(),
            ["attachments"] = new JsonArray(),
            ["tags"] = candidate["tags"]?.DeepClone(),
            ["custom_fields"] = candidate["custom_fields"]?.DeepClone(),
        };
    }
}
