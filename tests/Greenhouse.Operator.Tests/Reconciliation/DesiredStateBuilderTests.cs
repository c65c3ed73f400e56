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
