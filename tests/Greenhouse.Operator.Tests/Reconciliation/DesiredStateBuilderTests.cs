using System.Text;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Reconciliation;

namespace Greenhouse.Operator.Tests.Reconciliation;

public sealed class DesiredStateBuilderTests
{
    [Fact]
    public void Changing_a_receiver_setting_changes_the_pod_template_hash()
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case("minimal");
        var changed = DesiredStateBuilderGoldenTests.Integration("acme", integration.Spec with { Sync = new SyncSpec { ResyncInterval = "1m" } });

        var before = Hash(DesiredStateBuilder.Build(integration, inputs, DesiredStateBuilderGoldenTests.Settings));
        var after = Hash(DesiredStateBuilder.Build(changed, inputs, DesiredStateBuilderGoldenTests.Settings));

        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Changing_a_secret_value_changes_only_the_secret_not_the_pod_template()
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case("minimal");
        var rotated = inputs with { WebhookSecret = Encoding.UTF8.GetBytes("new-secret"), PreviousWebhookSecret = inputs.WebhookSecret };

        var before = DesiredStateBuilder.Build(integration, inputs, DesiredStateBuilderGoldenTests.Settings);
        var after = DesiredStateBuilder.Build(integration, rotated, DesiredStateBuilderGoldenTests.Settings);

        Assert.Equal(k8s.KubernetesJson.Serialize(before.Deployment), k8s.KubernetesJson.Serialize(after.Deployment));
        Assert.Equal("new-secret", Encoding.UTF8.GetString(after.WebhookSecret.Data[SecretFileNames.WebhookSecret]));
        Assert.Equal(inputs.WebhookSecret.ToArray(), after.WebhookSecret.Data[SecretFileNames.PreviousWebhookSecret]);
    }

    [Fact]
    public void Receiver_pods_use_the_configured_image_pull_secrets()
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case("minimal");
        var settings = DesiredStateBuilderGoldenTests.Settings with { ReceiverImagePullSecrets = ["registry-a", "registry-b"] };

        var pod = DesiredStateBuilder.Build(integration, inputs, settings).Deployment.Spec.Template.Spec;

        Assert.Equal(["registry-a", "registry-b"], pod.ImagePullSecrets.Select(s => s.Name));
        Assert.Null(DesiredStateBuilder.Build(integration, inputs, DesiredStateBuilderGoldenTests.Settings).Deployment.Spec.Template.Spec.ImagePullSecrets);
    }

    [Fact]
    public void Configured_prometheus_pods_may_reach_the_metrics_port_and_nothing_else()
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case("minimal");
        var settings = DesiredStateBuilderGoldenTests.Settings with { ScrapeNamespaces = ["observability"], ScrapePodLabels = ["app.kubernetes.io/name=prometheus"] };

        var rules = DesiredStateBuilder.Build(integration, inputs, settings).NetworkPolicy.Spec.Ingress;

        var scrape = rules[^1];
        Assert.Equal([ReceiverPorts.Http], scrape.Ports.Select(p => int.Parse(p.Port.Value, System.Globalization.CultureInfo.InvariantCulture)));
        var peer = Assert.Single(scrape.FromProperty);
        Assert.Equal("observability", peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.Equal("prometheus", peer.PodSelector.MatchLabels["app.kubernetes.io/name"]);
        Assert.Equal(rules.Count - 1, DesiredStateBuilder.Build(integration, inputs, DesiredStateBuilderGoldenTests.Settings).NetworkPolicy.Spec.Ingress.Count);
    }

    [Fact]
    public void Prometheus_pod_labels_without_namespaces_admit_those_pods_from_any_namespace()
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case("minimal");
        var settings = DesiredStateBuilderGoldenTests.Settings with { ScrapePodLabels = ["app=prometheus"] };

        var peer = Assert.Single(DesiredStateBuilder.Build(integration, inputs, settings).NetworkPolicy.Spec.Ingress[^1].FromProperty);

        Assert.Empty(peer.NamespaceSelector.MatchLabels ?? new Dictionary<string, string>());
        Assert.Equal("prometheus", peer.PodSelector.MatchLabels["app"]);
    }

    [Fact]
    public void Harvest_secret_and_settings_are_left_out_when_the_integration_has_no_harvest_section()
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case("minimal");

        var state = DesiredStateBuilder.Build(integration, inputs, DesiredStateBuilderGoldenTests.Settings);

        Assert.Null(state.HarvestSecret);
        Assert.Equal("false", state.ConfigMap.Data["Harvest__Enabled"]);
        Assert.DoesNotContain(state.Deployment.Spec.Template.Spec.Volumes, v => v.Name == "harvest");
    }

    [Theory]
    [InlineData("minimal")]
    [InlineData("full")]
    [InlineData("suspended")]
    public void Every_owned_object_is_labelled_and_controlled_by_the_integration(string name)
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case(name);
        var state = DesiredStateBuilder.Build(integration, inputs, DesiredStateBuilderGoldenTests.Settings);
        var metadata = new[]
        {
            state.WebhookSecret.Metadata, state.HarvestSecret?.Metadata, state.ConfigMap.Metadata, state.PersistentVolumeClaim.Metadata,
            state.Deployment.Metadata, state.Service.Metadata, state.Ingress?.Metadata, state.PodDisruptionBudget?.Metadata, state.NetworkPolicy.Metadata,
        }.Where(m => m is not null);

        Assert.All(metadata, m =>
        {
            Assert.Equal(integration.Metadata.NamespaceProperty, m!.NamespaceProperty);
            Assert.Equal(ResourceLabels.ReceiverName, m.Labels[ResourceLabels.Name]);
            Assert.Equal(integration.Metadata.Name, m.Labels[ResourceLabels.Instance]);
            Assert.Equal(ResourceLabels.OperatorName, m.Labels[ResourceLabels.ManagedBy]);
            var owner = Assert.Single(m.OwnerReferences);
            Assert.Equal(integration.Metadata.Uid, owner.Uid);
            Assert.True(owner.Controller);
        });
    }

    [Fact]
    public void Suspended_integration_scales_to_zero_and_has_no_disruption_budget()
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case("suspended");

        var state = DesiredStateBuilder.Build(integration, inputs, DesiredStateBuilderGoldenTests.Settings);

        Assert.Equal(0, state.Deployment.Spec.Replicas);
        Assert.Null(state.PodDisruptionBudget);
    }

    [Fact]
    public void Resource_quantities_are_written_in_the_canonical_form_the_api_server_stores()
    {
        var (integration, inputs) = DesiredStateBuilderGoldenTests.Case("minimal");
        var spelled = DesiredStateBuilderGoldenTests.Integration("acme", integration.Spec with
        {
            Receiver = new ReceiverSpec { Resources = new ResourcesSpec { Requests = new Dictionary<string, k8s.Models.ResourceQuantity> { ["cpu"] = new("0.5"), ["memory"] = new("1024Mi") } } },
        });

        var resources = DesiredStateBuilder.Build(spelled, inputs, DesiredStateBuilderGoldenTests.Settings).Deployment.Spec.Template.Spec.Containers[0].Resources;

        Assert.Equal("500m", resources.Requests["cpu"].ToString());
        Assert.Equal("1Gi", resources.Requests["memory"].ToString());
    }

    [Theory]
    [InlineData("15m", "00:15:00")]
    [InlineData("1h30m", "01:30:00")]
    [InlineData("2160h", "90.00:00:00")]
    [InlineData("1.5s", "00:00:01.5000000")]
    public void Go_durations_become_dotnet_time_spans(string go, string expected)
    {
        Assert.Equal(expected, GoDuration.Parse(go).ToString("c", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("")]
    [InlineData("15")]
    [InlineData("15x")]
    [InlineData("m15")]
    public void Malformed_go_durations_are_rejected(string value)
    {
        Assert.Throws<FormatException>(() => GoDuration.Parse(value));
    }

    private static string Hash(DesiredState state) =>
        state.Deployment.Spec.Template.Metadata.Annotations[ResourceAnnotations.ConfigHash];
}
