using System.Net;
using System.Text;
using Greenhouse.Receiver.Tests.Support;

namespace Greenhouse.Receiver.Tests;

public sealed class ReceiverOptionsIntegrationTests
{
    [Fact]
    public async Task Events_outside_the_filter_are_200_ignored_and_not_stored()
    {
        await using var r = await TestReceiver.StartAsync(["--Webhook:Events=candidate_stage_change"]);
        using var response = await r.SendAsync(ProcessorHarness.Update(1, "a@example.com"), "f1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("ignored", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("""greenhouse_webhooks_received_total{action="update_candidate",result="ignored"} 1""", await r.MetricsAsync());
        Assert.Equal(0, (await r.Health.GetSyncHealthAsync(new())).PendingEvents + (await r.Health.GetSyncHealthAsync(new())).EventsProcessed);
    }

    [Fact]
    public async Task Basic_auth_is_required_when_configured()
    {
        var root = Directory.CreateTempSubdirectory("ghr-basic-").FullName;
        var basic = Path.Combine(root, "basic");
        Directory.CreateDirectory(basic);
        await File.WriteAllTextAsync(Path.Combine(basic, "username"), "greenhouse");
        await File.WriteAllTextAsync(Path.Combine(basic, "password"), "hunter2");
        await using var r = await TestReceiver.StartAsync([$"--Webhook:BasicAuthDirectory={basic}"], root: root);
        var body = Encoding.UTF8.GetBytes(ProcessorHarness.Update(1, "a@example.com"));

        using (var missing = await r.Public.SendAsync(TestReceiver.Signed(body, "b1", TestReceiver.Secret)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        }
        var wrong = TestReceiver.Signed(body, "b2", TestReceiver.Secret);
        wrong.Headers.Authorization = new("Basic", Convert.ToBase64String("greenhouse:wrong"u8));
        using (var response = await r.Public.SendAsync(wrong))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var right = TestReceiver.Signed(body, "b3", TestReceiver.Secret);
        right.Headers.Authorization = new("Basic", Convert.ToBase64String("greenhouse:hunter2"u8));
        using (var response = await r.Public.SendAsync(right))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Secrets_directory_symlink_swap_is_picked_up_without_restart()
    {
        var root = Directory.CreateTempSubdirectory("ghr-swap-").FullName;
        var mount = new SecretsMount(Path.Combine(root, "secrets"), "first-secret");
        await using var r = await TestReceiver.StartAsync(["--Webhook:SecretsPollInterval=00:00:00.200"], root: root);
        var body = ProcessorHarness.Update(1, "a@example.com");
        Assert.Equal(HttpStatusCode.OK, (await r.SendAsync(body, "s1", secret: "first-secret")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await r.SendAsync(body, "s2", secret: "second-secret")).StatusCode);

        mount.Update("second-secret", "first-secret");
        await Eventually.TrueAsync(async () => (await r.Health.GetSyncHealthAsync(new())).SecretsGeneration == 2, "the new secrets are loaded");
        Assert.Equal(HttpStatusCode.OK, (await r.SendAsync(body, "s3", secret: "second-secret")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await r.SendAsync(body, "s4", secret: "first-secret")).StatusCode);
        var health = await r.Health.GetSyncHealthAsync(new());
        Assert.Equal(Greenhouse.Contracts.Receiver.V1.SecretSlot.Previous, health.LastVerifiedSlot);
        // Adoption as the operator reads it: the loaded secret's fingerprint and a delivery verified with it since loading.
        Assert.Equal(Greenhouse.Contracts.SecretFingerprint.Of("second-secret"u8), health.CurrentSecretFingerprint);
        Assert.True(health.LastVerifiedCurrentAt.ToDateTimeOffset() >= health.SecretsLoadedAt.ToDateTimeOffset());
        Assert.True(health.LastVerifiedPreviousAt.ToDateTimeOffset() >= health.LastVerifiedCurrentAt.ToDateTimeOffset());

        mount.Update("second-secret", null);
        await Eventually.TrueAsync(async () => (await r.Health.GetSyncHealthAsync(new())).SecretsGeneration == 3, "the previous secret is dropped");
        Assert.Equal(HttpStatusCode.Unauthorized, (await r.SendAsync(body, "s5", secret: "first-secret")).StatusCode);
    }
}
