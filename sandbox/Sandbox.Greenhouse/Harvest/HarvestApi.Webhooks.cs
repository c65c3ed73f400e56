using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Greenhouse;

/// <summary>
/// Harvest v3's partner webhook endpoints: <c>GET /v3/webhooks</c> (every webhook, admin-made ones included),
/// <c>POST /v3/webhooks</c>, <c>PATCH /v3/webhooks/{id}</c>, <c>DELETE /v3/webhooks/{id}</c> (200), each behind its
/// <c>harvest:webhooks:list|create|update|destroy</c> scope. Create and update ping the endpoint.
/// </summary>
internal sealed partial class HarvestApi
{
    private const int MaxBasicAuthPasswordLength = 255;

    /// <summary>The 29 <c>event_action_type</c> values.</summary>
    internal static readonly HashSet<string> WebhookEventTypes =
    [
        "application_updated", "candidate_anonymized", "candidate_stage_change", "delete_application",
        "delete_candidate", "department_deleted", "hire_candidate", "interview_deleted", "job_approved",
        "job_created", "job_deleted", "job_interview_stage_deleted", "job_post_created", "job_post_deleted",
        "job_post_updated", "job_updated", "merge_candidate", "new_candidate_application",
        "new_prospect_application", "offer_approved", "offer_created", "offer_deleted", "offer_updated",
        "office_deleted", "reject_candidate", "scorecard_deleted", "unhire_candidate", "unreject_candidate",
        "update_candidate",
    ];

    private async Task WebhooksAsync(HttpContext context, TokenService.IssuedToken token, string method, string[] segments)
    {
        var scope = (method, segments.Length) switch
        {
            ("GET", 1) => "harvest:webhooks:list",
            ("POST", 1) => "harvest:webhooks:create",
            ("PATCH", 2) => "harvest:webhooks:update",
            ("DELETE", 2) => "harvest:webhooks:destroy",
            _ => null,
        };
        long id = 0;
        if (scope is null || (segments.Length == 2 && !long.TryParse(segments[1], NumberStyles.None, CultureInfo.InvariantCulture, out id)))
        {
            await Errors(context, StatusCodes.Status404NotFound, "Not Found").ConfigureAwait(false);
            return;
        }

        if (!(tokens.Client(token.ClientId)?.Scopes.Contains(scope) ?? false))
        {
            await Errors(context, StatusCodes.Status403Forbidden, $"Missing required scope: {scope}").ConfigureAwait(false);
            return;
        }

        switch (method)
        {
            case "GET":
                await WriteAsync(context, StatusCodes.Status200OK, new JsonArray([.. webhooks.List().Select(w => (JsonNode)Describe(w))])).ConfigureAwait(false);
                return;
            case "DELETE":
                if (webhooks.Delete(id))
                {
                    await WriteAsync(context, StatusCodes.Status200OK, new JsonObject { ["id"] = id }).ConfigureAwait(false);
                }
                else
                {
                    await Errors(context, StatusCodes.Status404NotFound, $"Webhook {id} not found").ConfigureAwait(false);
                }

                return;
        }

        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        if (body is null)
        {
            await Errors(context, StatusCodes.Status400BadRequest, "The body must be a JSON object.").ConfigureAwait(false);
            return;
        }

        var creating = method == "POST";
        var errors = ValidateWebhook(body, creating);
        if (errors.Count > 0)
        {
            await WriteAsync(context, StatusCodes.Status422UnprocessableEntity, Validation(errors)).ConfigureAwait(false);
            return;
        }

        var maxAttempts = body["max_attempts"] is JsonValue attempts && attempts.TryGetValue<int>(out var n) ? n : (int?)null;
        var deactivated = body["deactivated"] is JsonValue off && off.TryGetValue<bool>(out var d) ? d : (bool?)null;
        if (creating)
        {
            var registration = new WebhookRegistration(new Uri(Text(body, "endpoint_url")!), Text(body, "secret_key")!, [Text(body, "event_action_type")!],
                Blank(Text(body, "basic_auth_username")), Blank(Text(body, "basic_auth_password")), Text(body, "name")!);
            var created = webhooks.Create(registration, maxAttempts!.Value, deactivated ?? false);
            await WriteAsync(context, StatusCodes.Status201Created, Describe(created)).ConfigureAwait(false);
            return;
        }

        var updated = webhooks.Update(id, current => current with
        {
            Endpoint = Text(body, "endpoint_url") is { } url ? new Uri(url) : current.Endpoint,
            SecretKey = Text(body, "secret_key") ?? current.SecretKey,
            Events = Text(body, "event_action_type") is { } type ? [type] : current.Events,
            Name = Text(body, "name") ?? current.Name,
            // Present (even null) replaces the Basic auth credentials; absent keeps them.
            BasicAuthUsername = body.ContainsKey("basic_auth_username") ? Blank(Text(body, "basic_auth_username")) : current.BasicAuthUsername,
            BasicAuthPassword = body.ContainsKey("basic_auth_password") ? Blank(Text(body, "basic_auth_password")) : current.BasicAuthPassword,
        }, maxAttempts, deactivated);
        if (updated is null)
        {
            await Errors(context, StatusCodes.Status404NotFound, $"Webhook {id} not found").ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, StatusCodes.Status200OK, Describe(updated)).ConfigureAwait(false);
    }

    private static JsonArray ValidateWebhook(JsonObject body, bool creating)
    {
        var errors = new JsonArray();
        foreach (var field in new[] { "endpoint_url", "name", "event_action_type", "secret_key", "max_attempts" })
        {
            if (creating && (body[field] is null || (body[field] is JsonValue v && v.TryGetValue<string>(out var text) && text.Length == 0)))
            {
                errors.Add(FieldError(field, "is required"));
            }
        }

        if (Text(body, "endpoint_url") is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
        {
            errors.Add(FieldError("endpoint_url", "must be an http or https URL"));
        }

        if (Text(body, "event_action_type") is { } type && !WebhookEventTypes.Contains(type))
        {
            errors.Add(FieldError("event_action_type", $"is not one of the {WebhookEventTypes.Count} event action types"));
        }

        if (body["max_attempts"] is JsonNode attempts && (attempts is not JsonValue value || !value.TryGetValue<int>(out var n) || n is < 1 or > 7))
        {
            errors.Add(FieldError("max_attempts", "must be an integer between 1 and 7"));
        }

        if (Text(body, "basic_auth_password") is { Length: > MaxBasicAuthPasswordLength })
        {
            errors.Add(FieldError("basic_auth_password", $"is too long (maximum is {MaxBasicAuthPasswordLength} characters)"));
        }

        return errors;
    }

    private static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static JsonObject Describe(ManagedWebhook webhook) => new()
    {
        ["id"] = webhook.Id,
        ["name"] = webhook.Name,
        ["endpoint_url"] = webhook.EndpointUrl.AbsoluteUri,
        ["event_action_type"] = webhook.EventActionType,
        ["max_attempts"] = webhook.MaxAttempts,
        ["deactivated"] = webhook.Deactivated,
        ["basic_auth_username"] = webhook.BasicAuthUsername,
        ["additional_headers"] = new JsonObject(),
        ["last_delivered"] = webhook.LastDelivered is { } at ? GreenhouseJson.Timestamp(at) : null,
        ["created_at"] = GreenhouseJson.Timestamp(webhook.CreatedAt),
        ["updated_at"] = GreenhouseJson.Timestamp(webhook.UpdatedAt),
    };
}
