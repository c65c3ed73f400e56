using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record WebhookStatus
{
    [Description("URL to paste into Greenhouse.")]
    public string? Url { get; init; }

    [Description("Version of the effective webhook secret; increases with every change.")]
    public long? SecretVersion { get; init; }

    [Description("When the current webhook secret took effect.")]
    public DateTime? RotatedAt { get; init; }

    [Description("When an operator-generated secret is rotated next.")]
    public DateTime? NextRotationAt { get; init; }

    [Description("Until when the previous webhook secret is still accepted; empty while no previous secret is kept or while a rotated secret waits for its first verified delivery (the previous one stays accepted until then).")]
    public DateTime? PreviousValidUntil { get; init; }

    [Description("True once a receiver verified a delivery signed with the current secret.")]
    public bool? Adopted { get; init; }

    [Description("When the receivers first reported a delivery verified with the current secret.")]
    public DateTime? AdoptedAt { get; init; }

    [Description("The value of the greenhouse.resource.io/rotate annotation last acted on; a different value rotates the generated secret once.")]
    public string? RotateRequest { get; init; }

    [Description("With spec.webhook.registration HarvestApi: the webhooks registered in Greenhouse, one per event type.")]
    public IList<WebhookRegistrationStatus>? Registrations { get; init; }

    [Description("With spec.webhook.registration HarvestApi: keyed hash (HMAC with the webhook secret) of the URL, secret version and Basic auth last confirmed by Greenhouse; a difference re-registers.")]
    public string? RegisteredConfig { get; init; }

    [Description("With spec.webhook.registration HarvestApi: the webhook secret version Greenhouse last confirmed (it signs with this one).")]
    public long? RegisteredSecretVersion { get; init; }

    [Description("With spec.webhook.registration HarvestApi: when Greenhouse last confirmed the registrations.")]
    public DateTime? RegisteredAt { get; init; }
}
