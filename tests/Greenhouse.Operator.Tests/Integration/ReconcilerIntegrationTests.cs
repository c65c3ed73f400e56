using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>The operator against the emulated API server, as a user would drive it with kubectl.</summary>
public sealed class ReconcilerIntegrationTests
{
    private static GreenhouseIntegrationSpec Spec(string endpoint = "https://hooks.example.com/greenhouse/acme") => new()
    {
        Webhook = new WebhookSpec { Endpoint = endpoint },
    };

    [Fact]
    public async Task Applied_integration_gets_its_owned_objects_and_becomes_ready_when_the_deployment_is_available()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();

        await harness.CreateIntegrationAsync("acme", Spec());
        var ns = OperatorHarness.Namespace;
        // The NetworkPolicy is the last object a reconcile writes.
        await Eventually.TrueAsync(async () => (await harness.Client.NetworkingV1.ListNamespacedNetworkPolicyAsync(ns)).Items.Count == 1, "the owned objects exist");

        var secret = await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-webhook", ns);
        Assert.Equal(64, secret.Data[SecretFileNames.WebhookSecret].Length);
        var configMap = await harness.Client.CoreV1.ReadNamespacedConfigMapAsync("acme-receiver", ns);
        Assert.Equal("/greenhouse/acme", configMap.Data["Webhook__Path"]);
        await harness.Client.CoreV1.ReadNamespacedServiceAsync("acme-receiver", ns);
        await harness.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("acme-receiver-data", ns);
        await harness.Client.NetworkingV1.ReadNamespacedNetworkPolicyAsync("acme-receiver", ns);
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Reason == ConditionReasons.Creating, "status says the receiver is being created");

        await harness.MarkDeploymentAvailableAsync("acme-receiver");

        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Status == "True", "the integration is Ready");
        var integration = await harness.GetIntegrationAsync("acme");
        Assert.Equal(integration.Metadata.Generation, integration.Status!.ObservedGeneration);
        Assert.Equal("https://hooks.example.com/greenhouse/acme", integration.Status.Webhook!.Url);
        Assert.Equal(1, integration.Status.Receiver!.ReadyReplicas);
        // Events follow the status write that reports the transition.
        await Eventually.TrueAsync(
            async () => (await harness.Client.CoreV1.ListNamespacedEventAsync(ns)).Items.Any(e => e.InvolvedObject.Name == "acme" && e.Reason == ConditionReasons.Ready && e.Type == "Normal"),
            "a Normal Ready event is recorded");
    }

    [Fact]
    public async Task Idle_operator_makes_no_writes_over_several_resync_periods()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", Spec());
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the Deployment exists");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Status == "True", "the integration is Ready");
        // The reconcile that writes Ready=True records its event (one: ReceiverAvailable turned True with it) after the
        // status write: the idle window starts once that last write is done (starting it at the status alone let an event
        // fall into the window).
        await Eventually.TrueAsync(
            async () => (await harness.Client.CoreV1.ListNamespacedEventAsync(OperatorHarness.Namespace)).Items
                .Any(e => e.InvolvedObject.Name == "acme" && e.Reason == ConditionReasons.Ready),
            "the transition's event is recorded");

        harness.Api.Requests.Clear();
        var watchesBefore = harness.Api.Requests.Count;
        await Task.Delay(TimeSpan.FromSeconds(3.5)); // three resync periods of 1 s: this is the behaviour under test, not synchronisation

        var writes = harness.Api.Requests.Snapshot().Where(r => r.IsWrite).ToList();
        Assert.True(writes.Count == 0, "writes while idle: " + string.Join(", ", writes.Select(w => $"{w.Verb} {w.Path}")));
        Assert.Equal(0, watchesBefore);
    }

    [Fact]
    public async Task Scaling_the_deployment_by_hand_is_repaired()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", Spec());
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the Deployment exists");

        var scale = new V1Patch("{\"spec\":{\"replicas\":5}}", V1Patch.PatchType.MergePatch);
        await harness.Client.AppsV1.PatchNamespacedDeploymentAsync(scale, "acme-receiver", OperatorHarness.Namespace);

        await Eventually.TrueAsync(async () => (await harness.FindDeploymentAsync("acme-receiver"))!.Spec.Replicas == 1, "the replica count is repaired");
    }

    [Fact]
    public async Task Spec_change_rolls_the_deployment_only_when_receiver_settings_change()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", Spec());
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the Deployment exists");
        var before = (await harness.FindDeploymentAsync("acme-receiver"))!;

        await harness.PatchSpecAsync("acme", new { sync = new { resyncInterval = "5m" } });
        await Eventually.TrueAsync(async () => (await harness.Client.CoreV1.ReadNamespacedConfigMapAsync("acme-receiver", OperatorHarness.Namespace)).Data["Sync__ResyncInterval"] == "00:05:00", "the ConfigMap has the new interval");
        await Eventually.TrueAsync(async () => Hash((await harness.FindDeploymentAsync("acme-receiver"))!) != Hash(before), "the pod template hash changed");
        var rolled = (await harness.FindDeploymentAsync("acme-receiver"))!;

        // Exposing the webhook through an Ingress changes nothing the pods see: no rollout.
        await harness.PatchAsync("acme", """{"spec":{"webhook":{"ingress":{"className":"nginx"}}}}""");
        await Eventually.TrueAsync(async () => (await harness.Client.NetworkingV1.ListNamespacedIngressAsync(OperatorHarness.Namespace)).Items.Count == 1, "the Ingress is created");
        var after = (await harness.FindDeploymentAsync("acme-receiver"))!;
        Assert.Equal(rolled.Metadata.Generation, after.Metadata.Generation);
        Assert.Equal(rolled.Metadata.ResourceVersion, after.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Deleting_the_integration_garbage_collects_everything_it_owned()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme", Ingress = new IngressSpec { ClassName = "nginx" } } });
        await Eventually.TrueAsync(async () => (await harness.Client.NetworkingV1.ListNamespacedIngressAsync(OperatorHarness.Namespace)).Items.Count == 1, "the Ingress exists");

        await harness.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(GreenhouseIntegration.Group, GreenhouseIntegration.Version, OperatorHarness.Namespace, GreenhouseIntegration.Plural, "acme");

        var selector = $"{ResourceLabels.Instance}=acme";
        await Eventually.TrueAsync(async () =>
            (await harness.Client.AppsV1.ListNamespacedDeploymentAsync(OperatorHarness.Namespace, labelSelector: selector)).Items.Count == 0
            && (await harness.Client.CoreV1.ListNamespacedSecretAsync(OperatorHarness.Namespace, labelSelector: selector)).Items.Count == 0
            && (await harness.Client.CoreV1.ListNamespacedConfigMapAsync(OperatorHarness.Namespace, labelSelector: selector)).Items.Count == 0
            && (await harness.Client.CoreV1.ListNamespacedServiceAsync(OperatorHarness.Namespace, labelSelector: selector)).Items.Count == 0
            && (await harness.Client.NetworkingV1.ListNamespacedIngressAsync(OperatorHarness.Namespace, labelSelector: selector)).Items.Count == 0,
            "the owned objects are garbage-collected");
    }

    [Fact]
    public async Task Optional_objects_are_removed_when_the_spec_no_longer_wants_them()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        var ns = OperatorHarness.Namespace;
        await harness.CreateIntegrationAsync("acme", Spec() with
        {
            Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme", Ingress = new IngressSpec { ClassName = "nginx" } },
        });
        await Eventually.TrueAsync(async () => (await harness.Client.NetworkingV1.ListNamespacedIngressAsync(ns)).Items.Count == 1, "the Ingress exists");

        await harness.PatchAsync("acme", """{"spec":{"webhook":{"ingress":null}}}""");

        await Eventually.TrueAsync(async () => (await harness.Client.NetworkingV1.ListNamespacedIngressAsync(ns)).Items.Count == 0, "the Ingress is deleted");
        Assert.NotNull(await harness.FindDeploymentAsync("acme-receiver"));
    }

    [Fact]
    public async Task Missing_harvest_secret_is_reported_without_a_hot_loop_and_recovers_when_created()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", Spec() with
        {
            Harvest = new HarvestSpec { CredentialsSecretRef = new SecretReference { Name = "acme-harvest" }, SyncUserId = 4080 },
        });

        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Reason == ConditionReasons.SecretNotFound, "Ready says the Secret is missing");
        var ready = await harness.ReadyConditionAsync("acme");
        Assert.Equal($"Secret \"acme-harvest\" in namespace \"{OperatorHarness.Namespace}\" not found; create it with keys client_id and client_secret", ready!.Message);
        await Eventually.TrueAsync(async () => (await harness.Client.CoreV1.ListNamespacedEventAsync(OperatorHarness.Namespace)).Items.Any(e => e.Reason == ConditionReasons.SecretNotFound && e.Type == "Warning"), "a Warning event is recorded");

        harness.Api.Requests.Clear();
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // two resync periods: a hot loop would show up as writes here
        Assert.DoesNotContain(harness.Api.Requests.Snapshot(), r => r.IsWrite);

        await harness.CreateSecretAsync("acme-harvest", new Dictionary<string, string> { ["client_id"] = "id", ["client_secret"] = "secret" });
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the receiver is created once the Secret exists");
        var harvest = await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-harvest", OperatorHarness.Namespace);
        Assert.Equal("secret"u8.ToArray(), harvest.Data[SecretFileNames.ClientSecret]);
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Reason == ConditionReasons.Creating, "Ready moves on to the receiver");
    }

    [Fact]
    public async Task Invalid_spec_is_rejected_by_the_crd_schema_with_a_readable_message()
    {
        await using var harness = await OperatorHarness.StartAsync();
        var integration = new GreenhouseIntegration
        {
            Metadata = new V1ObjectMeta { Name = "bad", NamespaceProperty = OperatorHarness.Namespace },
            Spec = Spec() with { Receiver = new ReceiverSpec { Replicas = 0 }, Sync = new SyncSpec { ResyncInterval = "soon" } },
        };

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => harness.Client.CustomObjects.CreateNamespacedCustomObjectAsync(
            integration, GreenhouseIntegration.Group, GreenhouseIntegration.Version, OperatorHarness.Namespace, GreenhouseIntegration.Plural));

        Assert.Equal(422, (int)error.Response.StatusCode);
        Assert.Contains("spec.receiver.replicas", error.Response.Content, StringComparison.Ordinal);
        Assert.Contains("spec.sync.resyncInterval", error.Response.Content, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("greenhouseintegration.yaml")]
    [InlineData("minimal.yaml")]
    public async Task Example_integrations_are_accepted_and_reconciled(string file)
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        foreach (var secret in KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(RepositoryPaths.Combine("examples", "secrets.yaml"))).Cast<V1Secret>())
        {
            await harness.Client.CoreV1.CreateNamespacedSecretAsync(secret, secret.Metadata.NamespaceProperty);
        }

        var integration = KubernetesYaml.Deserialize<GreenhouseIntegration>(await File.ReadAllTextAsync(RepositoryPaths.Combine("examples", file)));
        await harness.Client.CustomObjects.CreateNamespacedCustomObjectAsync(integration, GreenhouseIntegration.Group, GreenhouseIntegration.Version, OperatorHarness.Namespace, GreenhouseIntegration.Plural);

        var receiver = ReceiverNames.Receiver(integration.Metadata.Name);
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync(receiver) is not null, "the example's receiver exists");
        await harness.MarkDeploymentAvailableAsync(receiver);
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync(integration.Metadata.Name))?.Status == "True", "the example integration is Ready");
    }

    private static string Hash(V1Deployment deployment) =>
        deployment.Spec.Template.Metadata.Annotations[ResourceAnnotations.ConfigHash];
}
