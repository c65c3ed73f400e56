namespace Sandbox.Greenhouse;

/// <summary>
/// A snapshot of one event delivery to one webhook; <see cref="NextAttemptAt"/> is set while a retry is scheduled.
/// <see cref="Endpoint"/> is the URL registered in Greenhouse; <see cref="DeliveredTo"/> the address the last attempt
/// was posted to (the same, unless the simulator's endpoint resolver maps the host, as the sandbox does).
/// </summary>
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
    DateTimeOffset? NextAttemptAt,
    long? WebhookId = null,
    Uri? DeliveredTo = null);
