using ControllerRuntime;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Prometheus;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>What the API refuses (CRD schema), what the operator refuses itself (rules the emulator cannot run as CEL), and an operator that survives objects it cannot read.</summary>
public sealed class ValidationIntegrationTests
{
    private const string Endpoint = "https://hooks.example.com/greenhouse/acme";

    [Theory]
    [InlineData("""{"receiver":{"resources":{"limits":{"memory":"512MB"}}}}""", "spec.receiver.resources.limits.memory")]
    [InlineData("""{"receiver":{"resources":{"requests":{"cpu":"half"}}}}""", "spec.receiver.resources.requests.cpu")]
    [InlineData("""{"storage":{"size":"1GB"}}""", "spec.storage.size")]
    [InlineData("""{"receiver":{"replicas":2}}""", "spec.receiver.replicas")]
    [InlineData("""{"webhook":{"endpoint":"https://hooks.example.com/x","basicAuthSecretRef":{"name":"Not_A_Name"}}}""", "spec.webhook.basicAuthSecretRef.name")]
    [InlineData("""{"webhook":{"endpoint":"https://hooks.example.com/x","events":["candidate_hired"]}}""", "spec.webhook.events[0]")]
    public async Task An_invalid_field_is_refused_by_the_api_naming_it_and_a_valid_integration_still_becomes_ready(string specPatch, string field)
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        var spec = System.Text.Json.Nodes.JsonNode.Parse($$$"""{"webhook":{"endpoint":"{{{Endpoint}}}"}}""")!.AsObject();
        foreach (var (key, value) in System.Text.Json.Nodes.JsonNode.Parse(specPatch)!.AsObject().ToList())
        {
            spec[key] = value?.DeepClone();
        }

        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = GreenhouseIntegration.GroupVersion,
            ["kind"] = GreenhouseIntegration.EntityKind,
            ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "bad" },
            ["spec"] = spec,
        };
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => harness.Client.CustomObjects.CreateNamespacedCustomObjectAsync(
            body, GreenhouseIntegration.Group, GreenhouseIntegration.Version, OperatorHarness.Namespace, GreenhouseIntegration.Plural));
        Assert.Equal(422, (int)error.Response.StatusCode);
        Assert.Contains(field, error.Response.Content, StringComparison.Ordinal);

        await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = Endpoint } });
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the valid integration's Deployment exists");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Status == "True", "the valid integration is Ready");
    }

    [Theory]
    [InlineData("a-name-of-seventy-characters-is-longer-than-any-service-name-may-be-xyz")]
    [InlineData("1acme")]
    public async Task A_name_that_would_make_an_invalid_service_name_is_refused(string name)
    {
        await using var harness = await OperatorHarness.StartAsync();

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => harness.CreateIntegrationAsync(name, new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = Endpoint } }));

        Assert.Equal(422, (int)error.Response.StatusCode);
        Assert.Contains("metadata.name", error.Response.Content, StringComparison.Ordinal);
        Assert.True(ReceiverNames.Receiver(new string('a', ResourceNames.MaxIntegrationNameLength)).Length <= 63);
    }

    [Fact]
    public async Task Conditions_without_a_reason_or_with_a_duplicate_type_are_refused_by_the_status_schema()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = Endpoint } });

        async Task<int> PatchStatusAsync(string conditions)
        {
            try
            {
                await harness.Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
                    new V1Patch($$$"""{"status":{"conditions":{{{conditions}}}}}""", V1Patch.PatchType.MergePatch),
                    GreenhouseIntegration.Group, GreenhouseIntegration.Version, OperatorHarness.Namespace, GreenhouseIntegration.Plural, "acme");
                return 200;
            }
            catch (HttpOperationException ex)
            {
                return (int)ex.Response.StatusCode;
            }
        }

        const string Good = """{"type":"Ready","status":"True","reason":"Ready","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}""";
        Assert.Equal(200, await PatchStatusAsync($"[{Good}]"));
        Assert.Equal(422, await PatchStatusAsync("""[{"type":"Ready","status":"True","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]"""));
        Assert.Equal(422, await PatchStatusAsync("""[{"type":"Ready","status":"True","reason":"not a reason","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]"""));
        Assert.Equal(422, await PatchStatusAsync($"[{Good},{Good}]"));
    }

    [Theory]
    [InlineData("""{"spec":{"storage":{"storageClassName":"fast"}}}""", "storageClassName cannot change")]
    [InlineData("""{"spec":{"storage":{"size":"512Mi"}}}""", "size cannot shrink")]
    public async Task A_storage_change_the_claim_cannot_take_is_reported_and_the_claim_kept(string patch, string message)
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = Endpoint }, Storage = new StorageSpec { Size = new ResourceQuantity("1Gi"), StorageClassName = "standard" } });
        await Eventually.TrueAsync(async () => (await harness.Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(OperatorHarness.Namespace)).Items.Count == 1, "the claim exists");

        // The emulator has no CEL, so the API accepts the change; the operator must refuse it itself.
        await harness.PatchAsync("acme", patch);

        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Reason == ConditionReasons.StorageChangeRefused, "Ready says StorageChangeRefused");
        Assert.Contains(message, (await harness.ReadyConditionAsync("acme"))!.Message, StringComparison.Ordinal);
        var claim = await harness.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("acme-receiver-data", OperatorHarness.Namespace);
        Assert.Equal("standard", claim.Spec.StorageClassName);
        Assert.Equal("1Gi", claim.Spec.Resources.Requests["storage"].ToString());
    }

    [Fact]
    public async Task Only_owned_and_referenced_secrets_are_cached_and_a_reference_is_watched_for_as_long_as_it_exists()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.CreateSecretAsync("helm-release", new Dictionary<string, string> { ["release"] = new string('x', 10_000) });
        await harness.CreateSecretAsync("acme-basic", new Dictionary<string, string> { ["username"] = "greenhouse", ["password"] = "s3cret" });
        var op = await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = Endpoint, BasicAuthSecretRef = new SecretReference { Name = "acme-basic" } } });
        await Eventually.TrueAsync(async () => (await harness.FindConfigMapAsync("acme-receiver"))?.Data.ContainsKey("Webhook__BasicAuthDirectory") == true, "the referenced Secret was read");

        var unrelated = new ObjectKey(OperatorHarness.Namespace, "helm-release");
        var referenced = new ObjectKey(OperatorHarness.Namespace, "acme-basic");
        Assert.Null(op.Caches.Secrets.Get(unrelated));
        Assert.False(op.Caches.ReferencedSecrets.TryGet(unrelated, out _));
        Assert.Equal([referenced], op.Caches.ReferencedSecrets.Tracked);
        await Eventually.TrueAsync(() => Task.FromResult(op.Caches.ReferencedSecrets.TryGet(referenced, out var secret) && secret?.Data?.ContainsKey("password") == true), "the referenced Secret is cached with its data");
        Assert.Null(op.Caches.Secrets.Get(referenced));
        var own = op.Caches.Secrets.Get(new ObjectKey(OperatorHarness.Namespace, ReceiverNames.WebhookSecret("acme")))!;
        Assert.NotNull(own.Data);
        Assert.Null(own.Metadata.ManagedFields);

        // A change of the referenced Secret reaches the receiver through its watch.
        var before = (await harness.Client.CoreV1.ReadNamespacedSecretAsync(ReceiverNames.WebhookSecret("acme"), OperatorHarness.Namespace)).Data["password"];
        await harness.Client.CoreV1.PatchNamespacedSecretAsync(new V1Patch("""{"stringData":{"password":"n3w-s3cret"}}""", V1Patch.PatchType.MergePatch), "acme-basic", OperatorHarness.Namespace);
        await Eventually.TrueAsync(async () => System.Text.Encoding.UTF8.GetString((await harness.Client.CoreV1.ReadNamespacedSecretAsync(ReceiverNames.WebhookSecret("acme"), OperatorHarness.Namespace)).Data["password"]) == "n3w-s3cret", "the new password reaches the receiver's Secret");
        Assert.NotEqual(before, (await harness.Client.CoreV1.ReadNamespacedSecretAsync(ReceiverNames.WebhookSecret("acme"), OperatorHarness.Namespace)).Data["password"]);

        // Without the reference, its watch stops and its data leaves the cache.
        await harness.PatchAsync("acme", """{"spec":{"webhook":{"basicAuthSecretRef":null}}}""");
        await Eventually.TrueAsync(() => Task.FromResult(op.Caches.ReferencedSecrets.Tracked.Count == 0), "the reference's watch stopped");
        Assert.False(op.Caches.ReferencedSecrets.TryGet(referenced, out _));
    }

    [Fact]
    public async Task An_integration_the_operator_cannot_decode_is_skipped_and_counted_and_the_others_are_reconciled()
    {
        await using var harness = await OperatorHarness.StartAsync();
        // A CRD from before the quantity patterns: the API stores what the operator's types cannot read.
        var stored = await harness.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync($"{GreenhouseIntegration.Plural}.{GreenhouseIntegration.Group}");
        var loose = string.Join('\n', Greenhouse.Operator.Crds.CrdManifests.ToYaml(typeof(GreenhouseIntegration)).Split('\n')
            .Where(line => !line.Contains(ControllerRuntime.Schema.CrdGenerator.QuantityPattern, StringComparison.Ordinal)));
        var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(loose);
        crd.Metadata.ResourceVersion = stored.Metadata.ResourceVersion;
        await harness.Client.ApiextensionsV1.ReplaceCustomResourceDefinitionAsync(crd, crd.Metadata.Name);
        var bad = System.Text.Json.Nodes.JsonNode.Parse(
            "{\"apiVersion\":\"" + GreenhouseIntegration.GroupVersion + "\",\"kind\":\"" + GreenhouseIntegration.EntityKind + "\",\"metadata\":{\"name\":\"typo\"},"
            + "\"spec\":{\"webhook\":{\"endpoint\":\"" + Endpoint + "\"},\"receiver\":{\"resources\":{\"limits\":{\"memory\":\"512MB\"}}}}}")!;
        await harness.Client.CustomObjects.CreateNamespacedCustomObjectAsync(bad, GreenhouseIntegration.Group, GreenhouseIntegration.Version, OperatorHarness.Namespace, GreenhouseIntegration.Plural);
        var metrics = new ControllerMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));
        var op = await harness.StartOperatorAsync(controllerMetrics: metrics);

        await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = Endpoint } });
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the valid integration is reconciled");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Status == "True", "the valid integration is Ready");

        Assert.True(metrics.UndecodableObjects.WithLabels(GreenhouseIntegration.Plural).Value >= 1);
        Assert.Empty(op.Manager.FailedInformers);
        Assert.Null(await harness.FindDeploymentAsync("typo-receiver"));
    }
}
