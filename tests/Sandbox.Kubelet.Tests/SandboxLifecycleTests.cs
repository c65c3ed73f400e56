using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Greenhouse.Testing;

namespace Sandbox.Kubelet.Tests;

/// <summary>
/// The integration lifecycle in the whole sandbox (API emulator, Greenhouse simulator, operator, local kubelet
/// running real receivers), driven as a user would with kubectl and the simulator's controls: a wrong Harvest
/// client secret is held back, a generated webhook secret is rotated by annotation under continuous signed
/// traffic without one rejected delivery while the "Greenhouse admin" pastes the new key late, and a Harvest
/// outage longer than spec.sync.staleAfter turns Synced False and back. Operator intervals are seconds here.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(WholeSandbox.Name)]
public sealed class SandboxLifecycleTests : WholeSandboxTest
{
    private const string Ns = "recruiting";
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>One health poll (with its jitter), a reconcile, a status write and kubectl on a loaded machine.</summary>
    private static readonly TimeSpan Observed = (1.1 * PollInterval) + TimeSpan.FromSeconds(8);

    [Fact]
    public async Task Wrong_harvest_client_secret_is_held_back_with_a_warning_while_receivers_keep_syncing_and_restoring_it_recovers()
    {
        var sandbox = await StartAsync(examples => examples.Replace("resyncInterval: 5m", "resyncInterval: 2s", StringComparison.Ordinal));
        await AllTrueAsync(sandbox);
        var token = await TokenAsync(sandbox);
        var podIp = await PodIpAsync(sandbox);

        var patched = await sandbox.Kubectl("patch", "secret", "acme-harvest", "-n", Ns, "--type=merge", "-p", """{"stringData":{"client_secret":"WRONG"}}""");
        Assert.True(patched.ExitCode == 0, patched.ToString());
        var rejectedAt = DateTimeOffset.UtcNow;

        await Eventually.TrueAsync(
            async () => await ConditionsAsync(sandbox) is var c && c.Contains("Ready=False/CredentialsRejected", StringComparison.Ordinal) && c.Contains("HarvestAuthenticated=False/CredentialsRejected", StringComparison.Ordinal),
            "HarvestAuthenticated=False and Ready=False, reason CredentialsRejected",
            Observed);
        var message = await sandbox.JsonPath("ghi", "acme", Ns, "{.status.conditions[?(@.type==\"HarvestAuthenticated\")].message}");
        Assert.Contains("Secret \"acme-harvest\"", message, StringComparison.Ordinal);
        Assert.Contains("keep the last working credentials", message, StringComparison.Ordinal);
        Assert.DoesNotContain("WRONG", message, StringComparison.Ordinal);
        await Eventually.TrueAsync(
            async () => (await sandbox.Kubectl("get", "events", "-n", Ns, "-o", "jsonpath={range .items[?(@.type==\"Warning\")]}{.involvedObject.name}/{.reason} {end}")).StandardOutput.Contains("acme/CredentialsRejected", StringComparison.Ordinal),
            "a Warning event says the credentials were rejected");

        // Not rolled out: the receiver's copy keeps the working secret, and the receiver keeps sweeping with it.
        Assert.Equal("sandbox-secret", Encoding.UTF8.GetString(Convert.FromBase64String(await sandbox.JsonPath("secret", "acme-receiver-harvest", Ns, "{.data.client_secret}"))));
        await Eventually.TrueAsync(
            async () => await ReceiverHealthAsync(podIp, token) is var health
                && health.GetProperty("harvest").GetProperty("authenticated").GetBoolean()
                && health.TryGetProperty("lastSweepAt", out var sweep) && sweep.GetDateTimeOffset() > rejectedAt.AddSeconds(1),
            "the receiver, still authenticated with the old credentials, completes a sweep after the change",
            TimeSpan.FromSeconds(20));
        Assert.DoesNotContain("HarvestAuthenticated=True", await ConditionsAsync(sandbox), StringComparison.Ordinal);

        var restored = await sandbox.Kubectl("patch", "secret", "acme-harvest", "-n", Ns, "--type=merge", "-p", """{"stringData":{"client_secret":"sandbox-secret"}}""");
        Assert.True(restored.ExitCode == 0, restored.ToString());
        await Eventually.TrueAsync(
            async () => await ConditionsAsync(sandbox) is var c && c.Contains("Ready=True/", StringComparison.Ordinal) && c.Contains("HarvestAuthenticated=True/", StringComparison.Ordinal),
            "HarvestAuthenticated and Ready True again",
            Observed);
    }

    [Fact]
    public async Task Generated_secret_rotated_by_annotation_under_traffic_with_a_late_admin_rejects_no_delivery_and_the_old_key_only_after_adoption_plus_grace()
    {
        var grace = TimeSpan.FromSeconds(15);
        var sandbox = await StartAsync(examples => Regex.Replace(
            examples,
            @"    secretRef:\n      name: acme-webhook\n      key: secret_key\n",
            $"    rotation:\n      gracePeriod: {grace.TotalSeconds}s\n"));
        await AllTrueAsync(sandbox);
        var podIp = await PodIpAsync(sandbox);
        var token = await TokenAsync(sandbox);
        var webhookUrl = new Uri($"http://{podIp}:8080/greenhouse/acme");
        await Eventually.TrueAsync(() => sandbox.Output().Contains($"now posts to {webhookUrl}", StringComparison.Ordinal), "the admin configured the webhook", TimeSpan.FromSeconds(30));

        await sandbox.ControlAsync(HttpMethod.Post, "traffic?interval-ms=250");
        await Eventually.TrueAsync(
            async () => await sandbox.JsonPath("ghi", "acme", Ns, "{.status.webhook.secretVersion}/{.status.webhook.adopted}") == "1/true",
            "the generated secret (version 1) is adopted from the traffic",
            TimeSpan.FromSeconds(30));
        var oldKey = await WebhookKeyAsync(sandbox);

        // The admin is away: the rotated key is not pasted into Greenhouse, which keeps signing with the old one.
        await sandbox.ControlAsync(HttpMethod.Post, "admin/hold");
        var annotated = await sandbox.Kubectl("annotate", "ghi", "acme", "-n", Ns, "greenhouse.resource.io/rotate=e2e-1");
        Assert.True(annotated.ExitCode == 0, annotated.ToString());
        await Eventually.TrueAsync(
            async () => await sandbox.JsonPath("ghi", "acme", Ns, "{.status.webhook.secretVersion}/{.status.webhook.adopted}/{.status.webhook.rotateRequest}") == "2/false/e2e-1",
            "secretVersion 2, not adopted, the annotation's value recorded",
            Observed);
        var newKey = await WebhookKeyAsync(sandbox);
        Assert.NotEqual(oldKey, newKey);
        Assert.Contains("AwaitingAdoption", await ConditionsAsync(sandbox), StringComparison.Ordinal);
        await Eventually.TrueAsync(
            async () => (await ReceiverHealthAsync(podIp, token)).GetProperty("currentSecretFingerprint").GetString() == Fingerprint(newKey),
            "the receiver loaded the new key (the old one as previous)",
            TimeSpan.FromSeconds(30));
        var beforeLate = Delivered(await sandbox.ControlAsync(HttpMethod.Get, "webhooks"));
        await Eventually.TrueAsync(
            async () => Delivered(await sandbox.ControlAsync(HttpMethod.Get, "webhooks")) >= beforeLate + 5,
            "deliveries signed with the old key are still accepted after the rotation");
        Assert.Equal("2/false", await sandbox.JsonPath("ghi", "acme", Ns, "{.status.webhook.secretVersion}/{.status.webhook.adopted}"));

        // The admin comes back and pastes the new key: adoption, then the old key for the grace period only.
        await sandbox.ControlAsync(HttpMethod.Post, "admin/release");
        await Eventually.TrueAsync(() => Regex.Count(sandbox.Output(), Regex.Escape($"now posts to {webhookUrl}")) >= 2, "the admin pasted the new key", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(
            async () => await sandbox.JsonPath("ghi", "acme", Ns, "{.status.webhook.adopted}") == "true",
            "the operator records the adoption",
            Observed);
        var validUntil = DateTimeOffset.Parse(await sandbox.JsonPath("ghi", "acme", Ns, "{.status.webhook.previousValidUntil}"), CultureInfo.InvariantCulture);
        var adoptedAt = DateTimeOffset.Parse(await sandbox.JsonPath("ghi", "acme", Ns, "{.status.webhook.adoptedAt}"), CultureInfo.InvariantCulture);
        Assert.Equal(adoptedAt + grace, validUntil);

        // Signed with the old key directly: accepted until adoption + grace, refused after.
        var probe = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, await ProbeAsync(webhookUrl, oldKey));
        DateTimeOffset? refusedAt = null;
        await Eventually.TrueAsync(
            async () =>
            {
                var status = await ProbeAsync(webhookUrl, oldKey);
                refusedAt = status == HttpStatusCode.Unauthorized ? DateTimeOffset.UtcNow : null;
                return refusedAt is not null;
            },
            "the old key is refused once the grace period has passed",
            grace + TimeSpan.FromSeconds(30));
        Assert.True(refusedAt >= validUntil, $"the old key was refused at {refusedAt:O}, before {validUntil:O}");
        Assert.Equal(HttpStatusCode.OK, await ProbeAsync(webhookUrl, newKey));
        await Eventually.TrueAsync(
            async () => await sandbox.JsonPath("ghi", "acme", Ns, "{.status.webhook.previousValidUntil}") == "",
            "previousValidUntil is cleared with the previous key",
            Observed);

        // Not one delivery of the simulator was refused, before, during or after the rotation.
        await sandbox.ControlAsync(HttpMethod.Delete, "traffic");
        await Eventually.TrueAsync(
            async () => !(await sandbox.ControlAsync(HttpMethod.Get, "webhooks")).Contains("\"state\":\"Pending\"", StringComparison.Ordinal),
            "the last deliveries are answered");
        var log = JsonDocument.Parse(await sandbox.ControlAsync(HttpMethod.Get, "webhooks")).RootElement.EnumerateArray().ToList();
        Assert.True(log.Count > 20, $"{log.Count} deliveries");
        Assert.All(log, d => Assert.Equal("Delivered/1/200", $"{d.GetProperty("state").GetString()}/{d.GetProperty("attempts").GetInt32()}/{d.GetProperty("lastStatusCode")}"));
        Assert.Contains("WebhookSecretReady=True/SecretReady", await ConditionsAsync(sandbox), StringComparison.Ordinal);
    }

    /// <summary>
    /// 401: every sweep fails at once (SweepFailing after two resync intervals, then Stale). 429: a sweep waits out
    /// Retry-After five times before it fails, so SweepFailing may not show before Stale (once staleAfter has passed).
    /// </summary>
    [Theory]
    [InlineData(401, "^Synced=True/Synced Synced=False/SweepFailing Synced=False/Stale$")]
    [InlineData(429, "^Synced=True/Synced (Synced=False/SweepFailing )?Synced=False/Stale$")]
    public async Task Harvest_answering_an_error_for_longer_than_staleAfter_turns_synced_false_and_back(int status, string reasons)
    {
        var staleAfter = TimeSpan.FromSeconds(12);
        var sandbox = await StartAsync(examples => examples.Replace(
            "resyncInterval: 5m",
            $"resyncInterval: 2s\n    staleAfter: {staleAfter.TotalSeconds}s",
            StringComparison.Ordinal));
        await AllTrueAsync(sandbox);

        var podIp = await PodIpAsync(sandbox);
        var token = await TokenAsync(sandbox);

        await sandbox.ControlAsync(HttpMethod.Post, $"faults?harvest={status}");
        var seen = new List<string>();
        await Eventually.TrueAsync(
            async () =>
            {
                var synced = Regex.Match(await ConditionsAsync(sandbox), @"Synced=\S+").Value;
                if (seen.Count == 0 || seen[^1] != synced)
                {
                    seen.Add(synced);
                }

                return synced == "Synced=False/Stale";
            },
            "Synced=False, reason Stale",
            staleAfter + Observed);

        Assert.Matches(reasons, string.Join(' ', seen));
        var staleSeen = DateTimeOffset.UtcNow;

        // Stale is measured from the receiver's last successful sweep (frozen since the outage began), to the second.
        var lastSweep = (await ReceiverHealthAsync(podIp, token)).GetProperty("lastSweepAt").GetDateTimeOffset();
        Assert.True(staleSeen >= lastSweep + staleAfter - TimeSpan.FromSeconds(1), $"Stale seen at {staleSeen:O}, the last sweep at {lastSweep:O}, staleAfter {staleAfter}");
        // The message names the setting and, once a sweep has failed, Harvest's answer.
        await Eventually.TrueAsync(
            async () => await sandbox.JsonPath("ghi", "acme", Ns, "{.status.conditions[?(@.type==\"Synced\")].message}") is var message
                && message.Contains($"staleAfter {staleAfter.TotalSeconds}s", StringComparison.Ordinal)
                && message.Contains(status == 429 ? "429 Too Many Requests" : $"({status})", StringComparison.Ordinal),
            $"the Stale message names staleAfter and the {status} answers",
            TimeSpan.FromSeconds(10) + Observed);

        await sandbox.ControlAsync(HttpMethod.Delete, "faults");
        // After 429s that carry no X-RateLimit-Remaining the receiver's Harvest client counts the rate
        // window as used up and sends nothing more until it ends: up to the 10 s it assumes for a
        // window (HarvestOptions.AssumedRateLimitWindow). Measured alone, recovery took 1.1-8.6 s
        // after 429s and 1.8-3.9 s after 401s.
        var rateWindow = status == 429 ? TimeSpan.FromSeconds(10) : TimeSpan.Zero;
        await Eventually.TrueAsync(
            async () => (await ConditionsAsync(sandbox)).Contains("Synced=True/Synced", StringComparison.Ordinal),
            "Synced=True again once Harvest answers",
            TimeSpan.FromSeconds(2) + rateWindow + Observed);
        await Eventually.TrueAsync(
            async () => await ConditionsAsync(sandbox) == "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Authenticated Synced=True/Synced",
            "all five conditions True again",
            Observed);
    }

    private async Task<SandboxProcess> StartAsync(Func<string, string> edit)
    {
        var sandbox = await SandboxProcess.StartAsync("lifecycle", ["--candidates", "20"], new Dictionary<string, string>
        {
            ["Operator__HealthPollInterval"] = PollInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Operator__StatusWriteInterval"] = PollInterval.ToString("c", CultureInfo.InvariantCulture),
        });
        Sandbox = sandbox;
        await sandbox.ApplyExamplesAsync(examples =>
        {
            var edited = edit(examples);
            Assert.NotEqual(examples, edited);
            return edited;
        });
        return sandbox;
    }

    private static async Task AllTrueAsync(SandboxProcess sandbox) =>
        await Eventually.TrueAsync(
            async () => Regex.Count(await ConditionsAsync(sandbox), "=True/") == 5,
            "all five conditions are True",
            TimeSpan.FromSeconds(90));

    /// <summary>"Type=Status/Reason ..." in status order.</summary>
    private static async Task<string> ConditionsAsync(SandboxProcess sandbox) =>
        (await sandbox.JsonPath("ghi", "acme", Ns, "{range .status.conditions[*]}{.type}={.status}/{.reason} {end}")).Trim();

    private static async Task<string> PodIpAsync(SandboxProcess sandbox) =>
        (await sandbox.Kubectl("get", "pods", "-n", Ns, "-l", "app.kubernetes.io/instance=acme", "-o", "jsonpath={.items[0].status.podIP}")).StandardOutput;

    private static async Task<string> TokenAsync(SandboxProcess sandbox)
    {
        var created = await sandbox.Kubectl("create", "token", "crm-sync", "-n", Ns, "--audience", "greenhouse-receiver/recruiting/acme");
        Assert.True(created.ExitCode == 0, created.ToString());
        return created.StandardOutput.Trim();
    }

    private static async Task<string> WebhookKeyAsync(SandboxProcess sandbox) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(await sandbox.JsonPath("secret", "acme-receiver-webhook", Ns, "{.data.secret_key}")));

    private static async Task<JsonElement> ReceiverHealthAsync(string podIp, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{podIp}:8082/v1/health/sync"));
        request.Headers.Authorization = new("Bearer", token);
        using var response = await SandboxProcess.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The receiver's fingerprint of a secret: the first 16 hex digits of its SHA-256.</summary>
    private static string Fingerprint(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];

    private static int Delivered(string deliveries) => Regex.Count(deliveries, "\"state\":\"Delivered\"");

    /// <summary>A delivery signed as Greenhouse signs, with an action the receiver verifies and then ignores (nothing stored).</summary>
    private static async Task<HttpStatusCode> ProbeAsync(Uri url, string key)
    {
        var body = Encoding.UTF8.GetBytes("""{"action":"sandbox_probe","payload":{}}""");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TryAddWithoutValidation("Signature", "sha256 " + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), body)));
        using var response = await SandboxProcess.Http.SendAsync(request);
        return response.StatusCode;
    }
}
