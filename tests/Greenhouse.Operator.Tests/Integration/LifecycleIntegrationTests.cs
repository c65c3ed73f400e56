using System.Text;
using Google.Protobuf.WellKnownTypes;
using Greenhouse.Contracts;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Models;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>
/// Status from polled health, Harvest credential validation and webhook secret rotation, end to end
/// over the emulated API server (pods played by the test, SyncHealth and the token endpoint faked).
/// </summary>
public sealed class LifecycleIntegrationTests
{
    private const string Ns = OperatorHarness.Namespace;

    private static OperatorSettings Settings(TimeSpan? statusWriteInterval = null) => OperatorHarness.Settings() with
    {
        HealthPollInterval = TimeSpan.FromMilliseconds(200),
        StatusWriteInterval = statusWriteInterval ?? TimeSpan.Zero,
        ResyncPeriod = TimeSpan.FromMinutes(10),
    };

    private static GreenhouseIntegrationSpec Spec(bool harvest = false, string grace = "168h") => new()
    {
        Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme", Rotation = new RotationSpec { Interval = "2160h", GracePeriod = grace } },
        Harvest = harvest ? new HarvestSpec { CredentialsSecretRef = new SecretReference { Name = "acme-harvest" }, SyncUserId = 4080, TokenUrl = "https://auth.example.test/token" } : null,
    };

    [Fact]
    public async Task Polled_health_fills_status_sync_and_the_conditions_and_an_idle_integration_writes_nothing()
    {
        await using var harness = await OperatorHarness.StartAsync();
        var op = await harness.StartOperatorAsync(Settings());
        await harness.CreateIntegrationAsync("acme", Spec());
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the receiver exists");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        var lastEvent = DateTime.UtcNow.AddMinutes(-3);
        harness.Health.Answer("127.0.0.41", () => new SyncHealthReport
        {
            EventsAccepted = 7,
            Candidates = 12,
            LastEventAt = Timestamp.FromDateTime(lastEvent),
            SecretsLoadedAt = Timestamp.FromDateTime(lastEvent.AddHours(-1)),
        });
        await harness.CreateReadyPodAsync("acme", "acme-receiver-abc", "127.0.0.41");

        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Sync?.Candidates == 12, "status.sync comes from the polled health");
        var status = (await harness.GetIntegrationAsync("acme")).Status!;
        Assert.Equal(new DateTime(lastEvent.Ticks - (lastEvent.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc), status.Sync!.LastEventAt);
        Assert.Equal(7, status.Sync.EventsAccepted);
        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.Synced))?.Status == "True", "Synced is True");
        Assert.Equal(["True", "True", "True", "True", "True"], status.Conditions!.Select(c => c.Status));

        // Idle: polls continue, nothing changes, nothing is written.
        harness.Api.Requests.Clear();
        var calls = harness.Health.Calls;
        var rounds = op.HealthPoller.Rounds;
        await Eventually.TrueAsync(() => op.HealthPoller.Rounds >= rounds + 5, "five more polling rounds");
        Assert.True(harness.Health.Calls >= calls + 5);
        Assert.DoesNotContain(harness.Api.Requests.Snapshot(), r => r.IsWrite);

        // The pod stops answering: reported, not treated as healthy.
        harness.Health.Silence("127.0.0.41");
        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.Synced))?.Reason == ConditionReasons.ReceiverUnreachable, "Synced says the receiver is unreachable");
        Assert.Contains("acme-receiver-abc", (await harness.ConditionAsync("acme", ConditionTypes.Synced))!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Steady_traffic_writes_status_at_most_once_per_status_write_interval()
    {
        await using var harness = await OperatorHarness.StartAsync();
        var op = await harness.StartOperatorAsync(Settings(statusWriteInterval: TimeSpan.FromSeconds(2)));
        await harness.CreateIntegrationAsync("acme", Spec());
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the receiver exists");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        long accepted = 0;
        harness.Health.Answer("127.0.0.42", () => new SyncHealthReport { EventsAccepted = Interlocked.Add(ref accepted, 5), Candidates = 3 });
        await harness.CreateReadyPodAsync("acme", "acme-receiver-abc", "127.0.0.42");
        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.Synced))?.Status == "True", "Synced is True");

        harness.Api.Requests.Clear();
        var rounds = op.HealthPoller.Rounds;
        await Eventually.TrueAsync(() => op.HealthPoller.Rounds >= rounds + 20, "twenty polling rounds (every one with new counters)", TimeSpan.FromSeconds(30));
        var statusWrites = harness.Api.Requests.Snapshot().Where(r => r.IsWrite && r.Subresource == "status" && r.Name == "acme").ToList();
        var span = (statusWrites.Count == 0 ? TimeSpan.Zero : statusWrites[^1].Time - statusWrites[0].Time).TotalSeconds;
        Assert.InRange(statusWrites.Count, 1, 2 + (int)(span / 2));
        Assert.True(statusWrites.Count < 20 / 2, $"{statusWrites.Count} status writes in 20 rounds");
    }

    [Fact]
    public async Task Wrong_harvest_secret_is_not_rolled_out_and_restoring_it_makes_the_integration_ready_again()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync(Settings());
        await harness.CreateSecretAsync("acme-harvest", new Dictionary<string, string> { ["client_id"] = "id", ["client_secret"] = "good" });
        await harness.CreateIntegrationAsync("acme", Spec(harvest: true));
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the receiver exists");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Status == "True", "Ready");
        Assert.Equal(ConditionReasons.Authenticated, (await harness.ConditionAsync("acme", ConditionTypes.HarvestAuthenticated))!.Reason);

        harness.Tokens.Refuse("WRONG");
        await PatchSecretAsync(harness, "acme-harvest", "client_secret", "WRONG");

        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.HarvestAuthenticated))?.Reason == ConditionReasons.CredentialsRejected, "HarvestAuthenticated says the credentials were refused");
        var harvest = (await harness.ConditionAsync("acme", ConditionTypes.HarvestAuthenticated))!;
        Assert.Equal("False", harvest.Status);
        Assert.Contains("Secret \"acme-harvest\"", harvest.Message, StringComparison.Ordinal);
        Assert.Contains("401 invalid_client", harvest.Message, StringComparison.Ordinal);
        Assert.Equal(("False", ConditionReasons.CredentialsRejected), await StatusReasonAsync(harness, ConditionTypes.Ready));
        Assert.Contains("acme-harvest", (await harness.GetIntegrationAsync("acme")).Status!.Harvest!.LastError, StringComparison.Ordinal);
        var effective = await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-harvest", Ns);
        Assert.Equal("good", Encoding.UTF8.GetString(effective.Data[SecretFileNames.ClientSecret]));
        Assert.Contains((await harness.Client.CoreV1.ListNamespacedEventAsync(Ns)).Items, e => e.Reason == ConditionReasons.CredentialsRejected && e.Type == "Warning");
        Assert.DoesNotContain((await harness.Client.CoreV1.ListNamespacedEventAsync(Ns)).Items, e => e.Message.Contains("WRONG", StringComparison.Ordinal));

        await PatchSecretAsync(harness, "acme-harvest", "client_secret", "good");
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Status == "True", "Ready again");
        Assert.Equal(("True", ConditionReasons.Authenticated), await StatusReasonAsync(harness, ConditionTypes.HarvestAuthenticated));
        Assert.Null((await harness.GetIntegrationAsync("acme")).Status!.Harvest!.LastError); // the refusal is not left behind in status

        // A new secret that works is rolled out, the old one kept as previous_client_secret.
        await PatchSecretAsync(harness, "acme-harvest", "client_secret", "better");
        await Eventually.TrueAsync(async () => Encoding.UTF8.GetString((await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-harvest", Ns)).Data[SecretFileNames.ClientSecret]) == "better", "the new secret is rolled out");
        effective = await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-harvest", Ns);
        Assert.Equal("good", Encoding.UTF8.GetString(effective.Data[SecretFileNames.PreviousClientSecret]));
    }

    [Fact]
    public async Task Rotation_by_annotation_keeps_the_previous_secret_until_receivers_verify_the_new_one()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync(Settings());
        await harness.CreateIntegrationAsync("acme", Spec(grace: "2s"));
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the receiver exists");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        var first = await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-webhook", Ns);
        var oldKey = first.Data[SecretFileNames.WebhookSecret];
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook?.SecretVersion == 1, "version 1");

        await harness.PatchAsync("acme", "{\"metadata\":{\"annotations\":{\"" + ResourceAnnotations.Rotate + "\":\"now\"}}}");
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook?.SecretVersion == 2, "version 2 after the annotation");
        var rotated = await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-webhook", Ns);
        var newKey = rotated.Data[SecretFileNames.WebhookSecret];
        Assert.NotEqual(oldKey, newKey);
        Assert.Equal(oldKey, rotated.Data[SecretFileNames.PreviousWebhookSecret]);
        var webhook = (await harness.GetIntegrationAsync("acme")).Status!.Webhook!;
        Assert.Equal(("now", false), (webhook.RotateRequest, webhook.Adopted));

        // The grace period (2 s) passes without a delivery signed with the new key: old key kept, the condition says what to do.
        await Eventually.TrueAsync(async () => (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))?.Reason == ConditionReasons.RotationNotAdopted, "RotationNotAdopted after the grace period");
        Assert.Contains("kubectl get secret acme-receiver-webhook", (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))!.Message, StringComparison.Ordinal);
        Assert.Equal(oldKey, (await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-webhook", Ns)).Data[SecretFileNames.PreviousWebhookSecret]);

        // A receiver reports a delivery verified with the new key: adopted; the old key goes after the grace period.
        var loaded = DateTime.UtcNow.AddSeconds(-10);
        harness.Health.Answer("127.0.0.43", () => new SyncHealthReport
        {
            CurrentSecretFingerprint = SecretFingerprint.Of(newKey),
            SecretsLoadedAt = Timestamp.FromDateTime(loaded),
            LastVerifiedCurrentAt = Timestamp.FromDateTime(loaded.AddSeconds(5)),
            VerifiedCurrent = 1,
        });
        await harness.CreateReadyPodAsync("acme", "acme-receiver-abc", "127.0.0.43");
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook?.Adopted == true, "adopted");
        Assert.Equal("True", (await harness.ConditionAsync("acme", ConditionTypes.WebhookSecretReady))!.Status);
        await Eventually.TrueAsync(
            async () => (await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-webhook", Ns)).Data.ContainsKey(SecretFileNames.PreviousWebhookSecret) == false,
            "the previous key is dropped after adoption plus the grace period");
        Assert.Equal(newKey, (await harness.Client.CoreV1.ReadNamespacedSecretAsync("acme-receiver-webhook", Ns)).Data[SecretFileNames.WebhookSecret]);

        // The status forgets the previous key with it (a merge patch removes the field, it is not left behind).
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("acme")).Status?.Webhook?.PreviousValidUntil is null, "status.webhook.previousValidUntil is removed");
    }

    private static async Task<(string, string?)> StatusReasonAsync(OperatorHarness harness, string type)
    {
        var condition = (await harness.ConditionAsync("acme", type))!;
        return (condition.Status, condition.Reason);
    }

    private static async Task PatchSecretAsync(OperatorHarness harness, string name, string key, string value)
    {
        var body = new { data = new Dictionary<string, string> { [key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) } };
        var patch = new V1Patch(KubernetesJson.Serialize(body), V1Patch.PatchType.MergePatch);
        await harness.Client.CoreV1.PatchNamespacedSecretAsync(patch, name, Ns);
    }
}
