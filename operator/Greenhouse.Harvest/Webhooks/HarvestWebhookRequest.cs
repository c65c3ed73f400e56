namespace Greenhouse.Harvest;

/// <summary>
/// Body of <c>POST /v3/webhooks</c> and <c>PATCH /v3/webhooks/{id}</c>. Basic auth is sent on every
/// write (null clears it), so a webhook never keeps credentials the caller no longer wants.
/// </summary>
public sealed record HarvestWebhookRequest
{
    public required string Name { get; init; }

    public required Uri EndpointUrl { get; init; }

    /// <summary>One of <see cref="HarvestWebhookEvents.All"/>.</summary>
    public required string EventActionType { get; init; }

    public required string SecretKey { get; init; }

    /// <summary>Greenhouse's retry policy makes 7 attempts over about 15 hours.</summary>
    public int MaxAttempts { get; init; } = 7;

    public bool Deactivated { get; init; }

    public string? BasicAuthUsername { get; init; }

    /// <summary>At most 255 characters.</summary>
    public string? BasicAuthPassword { get; init; }

    public override string ToString() => $"HarvestWebhookRequest {{ Name = {Name}, EndpointUrl = {EndpointUrl}, EventActionType = {EventActionType} }}";
}
