namespace Greenhouse.Harvest;

/// <summary>A webhook as <c>GET /v3/webhooks</c> returns it (partner endpoints; the secret key and password are never returned).</summary>
public sealed record HarvestWebhook
{
    public long Id { get; init; }
    public string? Name { get; init; }
    public string? EndpointUrl { get; init; }
    public string? EventActionType { get; init; }
    public int? MaxAttempts { get; init; }
    public bool? Deactivated { get; init; }
    public string? BasicAuthUsername { get; init; }
    public DateTimeOffset? LastDelivered { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
}
