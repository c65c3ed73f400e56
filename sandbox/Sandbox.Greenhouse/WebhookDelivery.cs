namespace Sandbox.Greenhouse;

/// <summary>A snapshot of one event delivery to one webhook; <see cref="NextAttemptAt"/> is set while a retry is scheduled.</summary>
public sealed record WebhookDelivery(
    string EventId,
    string Action,
    Uri Endpoint,
    string Body,
    WebhookDeliveryState State,
    int Attempts,
    int? LastStatusCode,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset? NextAttemptAt);
