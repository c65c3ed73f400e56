using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record WebhookRegistrationStatus
{
    [Description("The webhook's event_action_type, e.g. update_candidate.")]
    public string EventType { get; init; } = "";

    [Description("The webhook's id in Greenhouse (Harvest v3 /v3/webhooks/{id}).")]
    public long Id { get; init; }
}
