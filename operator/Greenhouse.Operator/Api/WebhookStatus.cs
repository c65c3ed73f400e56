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

    [Description("Until when the previous webhook secret is still accepted.")]
    public DateTime? PreviousValidUntil { get; init; }

    [Description("True once deliveries signed with the current secret have arrived.")]
    public bool? Adopted { get; init; }
}
