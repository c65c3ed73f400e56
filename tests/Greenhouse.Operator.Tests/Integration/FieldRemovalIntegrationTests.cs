using System.Text.Json.Nodes;
using ControllerRuntime;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Models;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>
/// Server-side apply end to end: every optional spec field is set, then removed, and after each step the owned
/// objects must equal a fresh build of the desired state (nothing left behind from the field that went).
/// </summary>
public sealed class FieldRemovalIntegrationTests
{
    private const string Name = "acme";

    // The Ingress annotation used below must be allowed (SpecPolicy); the chart allows it by default too.
    private static readonly Configuration.OperatorSettings Settings =
        OperatorHarness.Settings() with { IngressAnnotationAllowList = ["nginx.ingress.kubernetes.io/limit-rps"] };

    public static TheoryData<string, string> OptionalFields => new()
    {
        { "basic auth", """{"spec":{"webhook":{"basicAuthSecretRef":{"name":"acme-basic"}}}}""" },
        { "events", """{"spec":{"webhook":{"events":["candidate_stage_change","update_candidate","hire_candidate"]}}}""" },
        { "node selector", """{"spec":{"receiver":{"nodeSelector":{"disk":"ssd","zone":"a"}}}}""" },
        { "tolerations", """{"spec":{"receiver":{"tolerations":[{"key":"dedicated","operator":"Equal","value":"greenhouse","effect":"NoSchedule"}]}}}""" },
        { "resource limits", """{"spec":{"receiver":{"resources":{"limits":{"cpu":"500m","ephemeral-storage":"1Gi"},"requests":{"ephemeral-storage":"100Mi"}}}}}""" },
        { "ingress TLS and annotations", """{"spec":{"webhook":{"ingress":{"className":"nginx","tlsSecretName":"hooks-tls","annotations":{"nginx.ingress.kubernetes.io/limit-rps":"20"}}}}}""" },
        { "greenhouse account", """{"spec":{"greenhouse":{"ssoDomain":"acme.greenhouse.io","maildropEmail":"maildrop+acme@example.com"}}}""" },
        { "harvest", """{"spec":{"harvest":{"credentialsSecretRef":{"name":"acme-harvest"},"syncUserId":4080}}}""" },
        { "sync intervals", """{"spec":{"sync":{"resyncInterval":"5m","fullResyncInterval":"12h"}}}""" },
        { "image", """{"spec":{"receiver":{"image":"ghcr.io/example/greenhouse-receiver:2.0.0"}}}""" },
    };

    [Theory]
    [MemberData(nameof(OptionalFields))]
    public async Task Setting_then_removing_an_optional_field_leaves_exactly_the_fresh_desired_state(string field, string setPatch)
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.CreateSecretAsync("acme-basic", new Dictionary<string, string> { ["username"] = "greenhouse", ["password"] = "s3cret" });
        await harness.CreateSecretAsync("acme-harvest", new Dictionary<string, string> { ["client_id"] = "id", ["client_secret"] = "secret" });
        await harness.StartOperatorAsync(Settings);
        await harness.CreateIntegrationAsync(Name, new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme" } });
        await WaitUntilOwnedObjectsMatchAsync(harness, "after create");

        await harness.PatchAsync(Name, setPatch);
        await WaitUntilOwnedObjectsMatchAsync(harness, $"with {field}");

        await harness.PatchAsync(Name, RemovalOf(setPatch));
        await WaitUntilOwnedObjectsMatchAsync(harness, $"after removing {field}");
    }

    [Fact]
    public async Task Writes_to_an_owned_object_stop_once_it_matches()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync(Name, new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme" } });
        await WaitUntilOwnedObjectsMatchAsync(harness, "after create");
        await harness.PatchAsync(Name, """{"spec":{"webhook":{"events":["update_candidate"]}}}""");
        await WaitUntilOwnedObjectsMatchAsync(harness, "with events");

        var configMap = await harness.Client.CoreV1.ReadNamespacedConfigMapAsync("acme-receiver", OperatorHarness.Namespace);
        await harness.PatchAsync(Name, """{"spec":{"webhook":{"events":null}}}""");
        await WaitUntilOwnedObjectsMatchAsync(harness, "without events");

        var after = await harness.Client.CoreV1.ReadNamespacedConfigMapAsync("acme-receiver", OperatorHarness.Namespace);
        Assert.NotEqual(configMap.Metadata.ResourceVersion, after.Metadata.ResourceVersion);
        var applies = harness.Api.Requests.Snapshot().Count(r => r.IsWrite && r.Resource == "configmaps");
        Assert.True(applies <= 3, $"{applies} writes of the ConfigMap for three desired states");
    }

    [Fact]
    public async Task An_unlabelled_object_with_an_owned_name_is_reported_as_a_name_conflict_and_left_alone_until_it_goes()
    {
        await using var harness = await OperatorHarness.StartAsync();
        var ns = OperatorHarness.Namespace;
        await harness.Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "acme-receiver" }, Data = new Dictionary<string, string> { ["Webhook__Path"] = "/mine" } }, ns, fieldManager: "kubectl-create");
        await harness.StartOperatorAsync();

        await harness.CreateIntegrationAsync(Name, new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme" } });

        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync(Name))?.Reason == ConditionReasons.NameConflict, "Ready says NameConflict");
        var ready = (await harness.ReadyConditionAsync(Name))!;
        Assert.Equal("False", ready.Status);
        Assert.Contains("ConfigMap \"acme-receiver\" in namespace \"recruiting\"", ready.Message, StringComparison.Ordinal);
        var theirs = await harness.Client.CoreV1.ReadNamespacedConfigMapAsync("acme-receiver", ns);
        Assert.Equal("/mine", theirs.Data["Webhook__Path"]);
        Assert.Null(theirs.Metadata.Labels);
        var events = await harness.Client.CoreV1.ListNamespacedEventAsync(ns);
        Assert.Contains(events.Items, e => e.Reason == ConditionReasons.NameConflict && e.Type == "Warning");

        await harness.Client.CoreV1.DeleteNamespacedConfigMapAsync("acme-receiver", ns);
        await WaitUntilOwnedObjectsMatchAsync(harness, "after the conflicting ConfigMap is gone");
    }

    /// <summary>The same JSON with every leaf object under spec replaced by null (a merge patch that removes the fields).</summary>
    private static string RemovalOf(string setPatch)
    {
        var node = JsonNode.Parse(setPatch)!.AsObject();
        var spec = node["spec"]!.AsObject();
        foreach (var (key, value) in spec.ToList())
        {
            if (value is JsonObject section && key is "webhook" or "receiver")
            {
                foreach (var (inner, _) in section.ToList())
                {
                    section[inner] = null;
                }
            }
            else
            {
                spec[key] = null;
            }
        }

        return node.ToJsonString();
    }

    private static async Task WaitUntilOwnedObjectsMatchAsync(OperatorHarness harness, string when)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string mismatch;
        while ((mismatch = await MismatchAsync(harness)).Length > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the owned objects differ from a fresh build of the desired state {when}: {mismatch}");
            await Task.Delay(20);
        }
    }

    /// <summary>Describes the first difference between the live owned objects and a fresh build; empty when none.</summary>
    private static async Task<string> MismatchAsync(OperatorHarness harness)
    {
        var ns = OperatorHarness.Namespace;
        var client = harness.Client;
        var integration = await harness.GetIntegrationAsync(Name);
        var webhook = await TryReadAsync(() => client.CoreV1.ReadNamespacedSecretAsync(ReceiverNames.WebhookSecret(Name), ns));
        if (webhook is null)
        {
            return "no effective webhook Secret";
        }

        var spec = integration.Spec;
        var inputs = new ResolvedInputs
        {
            WebhookSecret = webhook.Data[SecretFileNames.WebhookSecret],
            PreviousWebhookSecret = webhook.Data.TryGetValue(SecretFileNames.PreviousWebhookSecret, out var previous) && previous.Length > 0 ? previous : (ReadOnlyMemory<byte>?)null,
            BasicAuth = spec.Webhook.BasicAuthSecretRef is null ? null : new BasicAuthCredentials("greenhouse"u8.ToArray(), "s3cret"u8.ToArray()),
            Harvest = spec.Harvest is null ? null : new HarvestCredentials("id"u8.ToArray(), "secret"u8.ToArray(), null),
        };
        var desired = DesiredStateBuilder.Build(integration, inputs, Settings);

        var differences = new List<string>();
        Compare(differences, desired.WebhookSecret, webhook, "data", "type");
        Compare(differences, desired.HarvestSecret, await TryReadAsync(() => client.CoreV1.ReadNamespacedSecretAsync(ReceiverNames.HarvestSecret(Name), ns)), "data");
        Compare(differences, desired.ConfigMap, await TryReadAsync(() => client.CoreV1.ReadNamespacedConfigMapAsync(ReceiverNames.Receiver(Name), ns)), "data");
        Compare(differences, desired.Deployment, await TryReadAsync(() => client.AppsV1.ReadNamespacedDeploymentAsync(ReceiverNames.Receiver(Name), ns)),
            "spec/replicas", "spec/strategy", "spec/template/metadata/annotations", "spec/template/spec/nodeSelector", "spec/template/spec/tolerations",
            "spec/template/spec/volumes", "spec/template/spec/containers/0/image", "spec/template/spec/containers/0/resources", "spec/template/spec/containers/0/volumeMounts",
            "spec/template/spec/containers/0/envFrom");
        Compare(differences, desired.Ingress, await TryReadAsync(() => client.NetworkingV1.ReadNamespacedIngressAsync(ReceiverNames.Receiver(Name), ns)),
            "metadata/annotations", "spec/tls", "spec/ingressClassName", "spec/rules");
        Compare(differences, desired.Service, await TryReadAsync(() => client.CoreV1.ReadNamespacedServiceAsync(ReceiverNames.Receiver(Name), ns)), "spec/ports", "spec/selector");
        return string.Join("; ", differences);
    }

    private static void Compare<T>(List<string> differences, T? desired, T? live, params string[] paths)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var kind = typeof(T).Name;
        if (desired is null || live is null)
        {
            if (desired is not null || live is not null)
            {
                differences.Add($"{kind} {(desired is null ? "exists but is not desired" : "is missing")}");
            }

            return;
        }

        var want = ObjectComparison.ToNode(desired)!;
        var have = ObjectComparison.ToNode(live)!;
        foreach (var path in paths)
        {
            var wanted = At(want, path);
            var had = At(have, path);
            if (path.EndsWith("annotations", StringComparison.Ordinal) && had is JsonObject annotations)
            {
                annotations.Remove(ResourceAnnotations.AppliedHash);
                had = annotations.Count == 0 ? null : annotations;
            }

            if (!JsonNode.DeepEquals(wanted, had))
            {
                differences.Add($"{kind} {path}: want {wanted?.ToJsonString() ?? "(absent)"}, have {had?.ToJsonString() ?? "(absent)"}");
            }
        }
    }

    private static JsonNode? At(JsonNode root, string path)
    {
        JsonNode? node = root;
        foreach (var segment in path.Split('/'))
        {
            node = node switch
            {
                JsonObject o => o[segment],
                JsonArray a when int.TryParse(segment, out var i) && i < a.Count => a[i],
                _ => null,
            };
        }

        return node?.DeepClone();
    }

    private static async Task<T?> TryReadAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
