using Greenhouse.Operator.Api;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>Values of spec.webhook.registration.</summary>
public static class WebhookRegistrationMode
{
    public const string Manual = "Manual";
    public const string HarvestApi = "HarvestApi";

    /// <summary>Finalizer present only while webhooks registered through Harvest may exist.</summary>
    public const string Finalizer = "greenhouse.resource.io/webhook-registrations";

    public static bool IsHarvestApi(GreenhouseIntegrationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Webhook.Registration == HarvestApi;
    }
}
