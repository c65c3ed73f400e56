using ControllerRuntime.Schema;
using k8s;
using k8s.Models;

namespace Greenhouse.Operator.Api;

[KubernetesEntity(Group = Group, ApiVersion = Version, Kind = EntityKind, PluralName = Plural)]
[NameRules(ResourceNames.MaxIntegrationNameLength, ResourceNames.DnsLabelPattern)]
[CustomResource(ShortNames = ["ghi"], Categories = ["greenhouse"], StatusSubresource = true)]
[Description("GreenhouseIntegration runs a webhook receiver for one Greenhouse Recruiting account: it verifies and stores Greenhouse webhooks, keeps a candidate mirror in sync through Harvest v3 and reports sync health in its status.")]
[PrinterColumn(1, "Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", Description = "Whether the integration is fully working.")]
[PrinterColumn(2, "Webhook URL", "string", ".status.webhook.url", Description = "URL to paste into Greenhouse (Configure > Dev Center > Web Hooks).")]
[PrinterColumn(3, "Last event", "date", ".status.sync.lastEventAt", Description = "When the receiver last accepted a webhook.")]
[PrinterColumn(4, "Lag", "integer", ".status.sync.lagSeconds", Description = "Seconds the mirror is behind Greenhouse.")]
[PrinterColumn(5, "Age", "date", ".metadata.creationTimestamp")]
public sealed class GreenhouseIntegration : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "greenhouse.resource.io";
    public const string Version = "v1alpha1";
    public const string EntityKind = "GreenhouseIntegration";
    public const string Plural = "greenhouseintegrations";
    public const string GroupVersion = Group + "/" + Version;

    public string ApiVersion { get; set; } = GroupVersion;

    public string Kind { get; set; } = EntityKind;

    public V1ObjectMeta Metadata { get; set; } = new();

    [Required]
    [Description("Desired state of the integration.")]
    public GreenhouseIntegrationSpec Spec { get; set; } = new();

    [Description("Observed state, written by the operator.")]
    public GreenhouseIntegrationStatus? Status { get; set; }
}
