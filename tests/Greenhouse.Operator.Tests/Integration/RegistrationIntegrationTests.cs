using System.Globalization;
using Greenhouse.Contracts;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Autorest;
using Sandbox.Greenhouse;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>
/// spec.webhook.registration HarvestApi end to end over the emulated API server and the Greenhouse simulator's
/// /v3/webhooks: register, follow the spec, PATCH a rotated secret once the receivers loaded it, report refusals,
/// and delete the webhooks before the integration goes (finalizer).
/// </summary>
public sealed class RegistrationIntegrationTests
{
    private const string Ns = OperatorHarness.Namespace;
    private const string Endpoint = "https://hooks.example.com/greenhouse/acme";

    private static OperatorSettings Settings() => OperatorHarness.Settings() with
    {
        HealthPollInterval = TimeSpan.FromMilliseconds(200),
        StatusWriteInterval = TimeSpan.Zero,
        ResyncPeriod = TimeSpan.FromMinutes(10),
        HarvestValidationRetry = TimeSpan.FromMilliseconds(500),
    };

    private static GreenhouseIntegrationSpec Spec(GreenhouseSimulator simulator, string clientSecretName = "acme-harvest", params string[] events) => new()
    {
        Webhook = new WebhookSpec
        {
            Endpoint = Endpoint,
            Events = events.Length == 0 ? null : events,
            Registration = WebhookRegistrationMode.HarvestApi,
            BasicAuthSecretRef = new SecretReference { Name = "acme-basic" },
        },
        Harvest = new HarvestSpec
        {
            CredentialsSecretRef = new SecretReference { Name = clientSecretName },
            SyncUserId = simulator.SyncUserId,
            BaseUrl = simulator.HarvestBaseUrl.AbsoluteUri,
            TokenUrl = simulator.TokenUrl.AbsoluteUri,
        },
    };

    [Fact]
    public async Task Webhooks_are_registered_follow_the_spec_get_the_rotated_secret_once_loaded_and_are_deleted_with_the_integration()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync(Settings());
        var receiver = await StartReceiverAsync(harness, simulator, "sandbox-client", "sandbox-secret", "update_candidate", "delete_candidate");

        // Nothing is registered before the receivers hold the secret.
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Metadata.Finalizers?.Contains(WebhookRegistrationMode.Finalizer) == true, "the finalizer is added");
        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))?.Reason == ConditionReasons.RegistrationPending, "registration waits for the receivers");
        Assert.Empty(simulator.Webhooks);

        var first = await EffectiveSecretAsync(harness);
        receiver.Loaded = SecretFingerprint.Of(first);
        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))?.Reason == ConditionReasons.Registered, "the webhooks are registered");
        var status = (await harness.GetIntegrationAsync("acme")).Status!.Webhook!;
        Assert.Equal(["delete_candidate", "update_candidate"], status.Registrations!.Select(r => r.EventType));
        Assert.Equal(status.Registrations!.Select(r => r.Id).Order(), simulator.Webhooks.Select(w => w.Id).Order());
        Assert.All(simulator.Webhooks, w =>
        {
            Assert.Equal(new Uri(Endpoint), w.EndpointUrl);
            Assert.Equal("greenhouse", w.BasicAuthUsername);
            Assert.Equal(SecretFingerprint.Of(first), w.SecretKeyFingerprint);
            Assert.Contains("recruiting/acme", w.Name, StringComparison.Ordinal);
        });
        Assert.Equal(1, status.RegisteredSecretVersion);
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook?.Adopted == true, "a confirmed registration is adoption");
        Assert.Equal("True", (await harness.ReadyConditionAsync("acme"))!.Status);

        // Fewer events: the extra webhook is deleted.
        await harness.PatchSpecAsync("acme", new { webhook = new { events = new[] { "update_candidate" } } });
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook?.Registrations?.Count == 1, "one registration is left");
        Assert.Equal("update_candidate", Assert.Single(simulator.Webhooks).EventActionType);

        // Rotation: the new secret reaches Greenhouse only after the receivers loaded it.
        await harness.PatchAsync("acme", """{"metadata":{"annotations":{"greenhouse.resource.io/rotate":"r1"}}}""");
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook?.SecretVersion == 2, "secret version 2 is in effect");
        var rotated = await EffectiveSecretAsync(harness);
        Assert.NotEqual(SecretFingerprint.Of(first), SecretFingerprint.Of(rotated));
        Assert.Equal(SecretFingerprint.Of(first), Assert.Single(simulator.Webhooks).SecretKeyFingerprint);
        Assert.Equal(ConditionReasons.AwaitingAdoption, (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))!.Reason);
        receiver.Loaded = SecretFingerprint.Of(rotated);
        await Eventually.TrueAsync(() => simulator.Webhooks.SingleOrDefault()?.SecretKeyFingerprint == SecretFingerprint.Of(rotated), "the new secret is PATCHed into Greenhouse");
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook is { Adopted: true, RegisteredSecretVersion: 2 }, "the rotated secret is adopted at once");
        var adopted = (await harness.GetIntegrationAsync("acme")).Status!.Webhook!;
        Assert.NotNull(adopted.PreviousValidUntil);
        Assert.Equal(ConditionReasons.Registered, (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))!.Reason);
        var events = (await harness.Client.CoreV1.ListNamespacedEventAsync(Ns)).Items;
        Assert.Contains(events, e => e.Reason == "WebhooksRegistered");
        Assert.DoesNotContain(events, e => e.Message.Contains(System.Text.Encoding.UTF8.GetString(rotated), StringComparison.Ordinal));

        // Deletion: the webhooks go first, then the integration.
        await harness.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(GreenhouseIntegration.Group, GreenhouseIntegration.Version, Ns, GreenhouseIntegration.Plural, "acme");
        await Eventually.TrueAsync(async () => !await ExistsAsync(harness, "acme"), "the integration is gone");
        Assert.Empty(simulator.Webhooks);
        Assert.Contains(simulator.Requests, r => r.Method == "DELETE" && r.PathAndQuery.StartsWith("/v3/webhooks/", StringComparison.Ordinal) && r.Status == 200);
    }

    [Fact]
    public async Task A_credential_without_webhook_scopes_is_reported_by_scope_and_switching_to_manual_deletes_the_webhooks_and_the_finalizer()
    {
        var options = new GreenhouseSimulatorOptions { CandidateCount = 1 };
        options.Clients.Add(new SimulatedClient("custom", "custom-secret", SimulatedClient.WithoutWebhookScopes));
        await using var simulator = await GreenhouseSimulator.StartAsync(options);
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync(Settings());
        var receiver = await StartReceiverAsync(harness, simulator, "custom", "custom-secret");
        receiver.Loaded = SecretFingerprint.Of(await EffectiveSecretAsync(harness));

        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))?.Reason == ConditionReasons.MissingScope, "the missing scope is reported");
        var condition = (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))!;
        Assert.Equal("False", condition.Status);
        Assert.Contains("harvest:webhooks:list", condition.Message, StringComparison.Ordinal);
        Assert.Contains("Secret \"acme-harvest\"", condition.Message, StringComparison.Ordinal);
        Assert.Equal(("False", ConditionReasons.MissingScope), await StatusReasonAsync(harness, ConditionTypes.Ready));
        Assert.Contains((await harness.Client.CoreV1.ListNamespacedEventAsync(Ns)).Items, e => e.Reason == ConditionReasons.MissingScope && e.Type == "Warning");

        // The scopes are granted: the retry registers all 29 event types.
        simulator.SetClient(new SimulatedClient("custom", "custom-secret", SimulatedClient.AllScopes));
        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))?.Reason == ConditionReasons.Registered, "registered after the scopes were granted");
        Assert.Equal(29, simulator.Webhooks.Count);
        Assert.Equal(29, (await harness.GetIntegrationAsync("acme")).Status!.Webhook!.Registrations!.Count);

        // Back to Manual: the operator's webhooks are deleted and the finalizer removed.
        await harness.PatchSpecAsync("acme", new { webhook = new { registration = WebhookRegistrationMode.Manual } });
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Metadata.Finalizers?.Contains(WebhookRegistrationMode.Finalizer) != true, "the finalizer is removed");
        Assert.Empty(simulator.Webhooks);
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook?.Registrations is null, "status no longer lists registrations");
        Assert.NotEqual(ConditionReasons.Registered, (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))!.Reason);
    }

    private static async Task<ReceiverHealth> StartReceiverAsync(OperatorHarness harness, GreenhouseSimulator simulator, string clientId, string clientSecret, params string[] events)
    {
        await harness.CreateSecretAsync("acme-harvest", new Dictionary<string, string> { ["client_id"] = clientId, ["client_secret"] = clientSecret });
        await harness.CreateSecretAsync("acme-basic", new Dictionary<string, string> { ["username"] = "greenhouse", ["password"] = "basic-password" });
        await harness.CreateIntegrationAsync("acme", Spec(simulator, events: events));
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the receiver exists");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        var receiver = new ReceiverHealth();
        var ip = "127.0.0." + (50 + Interlocked.Increment(ref _pods)).ToString(CultureInfo.InvariantCulture);
        harness.Health.Answer(ip, () => new SyncHealthReport { CurrentSecretFingerprint = receiver.Loaded, Candidates = 1 });
        await harness.CreateReadyPodAsync("acme", "acme-receiver-abc", ip);
        return receiver;
    }

    private static int _pods;

    private static async Task<byte[]> EffectiveSecretAsync(OperatorHarness harness)
    {
        byte[]? value = null;
        await Eventually.TrueAsync(async () =>
        {
            var secret = (await harness.Client.CoreV1.ListNamespacedSecretAsync(Ns, fieldSelector: $"metadata.name={ReceiverNames.WebhookSecret("acme")}")).Items.SingleOrDefault();
            value = secret?.Data?.TryGetValue(SecretFileNames.WebhookSecret, out var v) == true ? v : null;
            return value is not null;
        }, "the effective webhook secret exists");
        return value!;
    }

    private static async Task<bool> ExistsAsync(OperatorHarness harness, string name)
    {
        try
        {
            await harness.GetIntegrationAsync(name);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private static async Task<(string?, string?)> StatusReasonAsync(OperatorHarness harness, string type)
    {
        var condition = await harness.ConditionAsync("acme", type);
        return (condition?.Status, condition?.Reason);
    }

    /// <summary>The webhook secret fingerprint the fake receiver pod reports as loaded.</summary>
    private sealed class ReceiverHealth
    {
        private volatile string _loaded = "";

        public string Loaded { get => _loaded; set => _loaded = value; }
    }
}
