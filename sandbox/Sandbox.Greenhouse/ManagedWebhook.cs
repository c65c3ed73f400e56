namespace Sandbox.Greenhouse;

/// <summary>
/// A webhook as the simulator holds it (<c>GET /v3/webhooks</c>). <see cref="ManagedByApi"/>: made through
/// <c>POST /v3/webhooks</c> (one <see cref="EventActionType"/>) rather than saved by an admin in the UI.
/// The secret key and password are never part of it; <see cref="SecretKeyFingerprint"/> (first 16 hex digits of the
/// key's SHA-256, as receivers report loaded secrets) lets tests check which key is registered. Not in the API's JSON.
/// </summary>
public sealed record ManagedWebhook(
    long Id,
    string Name,
    Uri EndpointUrl,
    string? EventActionType,
    int? MaxAttempts,
    bool Deactivated,
    string? BasicAuthUsername,
    bool ManagedByApi,
    DateTimeOffset? LastDelivered,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string SecretKeyFingerprint);
