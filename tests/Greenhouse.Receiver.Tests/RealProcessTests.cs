using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;

namespace Greenhouse.Receiver.Tests;

/// <summary>The built receiver as a real process: crashes, storage failures and secret rotation.</summary>
public sealed class RealProcessTests : IDisposable
{
    private const string SecretA = "rotation-secret-a";
    private const string SecretB = "rotation-secret-b";
    private readonly string _root = Directory.CreateTempSubdirectory("ghr-proc-").FullName;
    private readonly string _data;
    private readonly string _secrets;

    public RealProcessTests()
    {
        _data = Path.Combine(_root, "data");
        _secrets = Path.Combine(_root, "secrets");
    }

    public void Dispose() => TempFolders.Delete(_root);

    private static async Task<JsonElement> HealthAsync(ReceiverProcess receiver) =>
        JsonDocument.Parse(await receiver.Api.GetStringAsync("/v1/health/sync")).RootElement;

    private static long Number(JsonElement health, string name) =>
        health.TryGetProperty(name, out var value) ? long.Parse(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText(), System.Globalization.CultureInfo.InvariantCulture) : 0;

    [Fact]
    public async Task Events_acknowledged_before_a_SIGKILL_are_all_processed_exactly_once_after_restart()
    {
        const int n = 300;
        _ = new SecretsMount(_secrets, SecretA);
        var first = await ReceiverProcess.StartAsync(_secrets, _data);
        var statuses = new HttpStatusCode[n];
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var body = Encoding.UTF8.GetBytes(ProcessorHarness.Update(1000 + i, $"crash{i}@example.com"));
            using var response = await first.Public.SendAsync(TestReceiver.Signed(body, $"crash-{i}", SecretA), ct);
            statuses[i] = response.StatusCode;
        });
        first.Kill();
        await first.DisposeAsync();
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

        await using var second = await ReceiverProcess.StartAsync(_secrets, _data);
        await Eventually.TrueAsync(async () => Number(await HealthAsync(second), "pendingEvents") == 0 && Number(await HealthAsync(second), "candidates") == n,
            "every acknowledged event is processed after the restart", TimeSpan.FromSeconds(30));
        var health = await HealthAsync(second);
        // One upsert per event: a replayed event would have added a change-log entry.
        Assert.Equal(n, Number(health, "lastChangeNumber"));
        Assert.Equal(0, Number(health, "deadLetters"));

        using var again = await second.Public.SendAsync(TestReceiver.Signed(Encoding.UTF8.GetBytes(ProcessorHarness.Update(1000, "crash0@example.com")), "crash-0", SecretA));
        Assert.Contains("duplicate", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        second.Kill();
        using var db = ReceiverDatabase.Open(_data, TimeSpan.FromSeconds(1));
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*), SUM(state = 1), SUM(attempts) FROM inbox";
        using var reader = count.ExecuteReader();
        reader.Read();
        Assert.Equal((n, n, n), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
    }

    [Fact]
    public async Task A_second_receiver_on_the_same_data_directory_exits_with_a_clear_message_and_the_first_keeps_serving()
    {
        _ = new SecretsMount(_secrets, SecretA);
        await using var first = await ReceiverProcess.StartAsync(_secrets, _data);

        await using var second = await ReceiverProcess.StartAsync(_secrets, _data);

        Assert.Equal(3, await second.ExitCodeAsync());
        var line = Assert.Single(second.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"the data directory {_data} is in use by another receiver", line, StringComparison.Ordinal);
        await Eventually.TrueAsync(async () => (await first.Public.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "the first receiver keeps serving");
    }

    [Fact]
    public async Task Unwritable_data_directory_answers_503_and_counts_nothing_as_accepted_until_it_is_writable()
    {
        _ = new SecretsMount(_secrets, SecretA);
        Directory.CreateDirectory(_data);
        MakeUnwritable(_data, unwritable: true);
        try
        {
            await using var receiver = await ReceiverProcess.StartAsync(_secrets, _data);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await receiver.Public.GetAsync("/readyz")).StatusCode);
            for (var i = 0; i < 5; i++)
            {
                using var response = await receiver.Public.SendAsync(TestReceiver.Signed(Encoding.UTF8.GetBytes(ProcessorHarness.Update(1, "a@example.com")), $"u{i}", SecretA));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Contains("unavailable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            var metrics = await receiver.Api.GetStringAsync("/metrics");
            Assert.Contains("""greenhouse_webhooks_received_total{action="update_candidate",result="unavailable"} 5""", metrics);
            Assert.DoesNotContain("result=\"accepted\"", metrics);

            // Greenhouse retries; once storage is back the same delivery is stored.
            MakeUnwritable(_data, unwritable: false);
            await Eventually.TrueAsync(async () =>
            {
                using var retry = await receiver.Public.SendAsync(TestReceiver.Signed(Encoding.UTF8.GetBytes(ProcessorHarness.Update(1, "a@example.com")), "u0", SecretA));
                return retry.StatusCode == HttpStatusCode.OK;
            }, "a retried delivery is accepted once the folder is writable");
            await Eventually.TrueAsync(async () => (await receiver.Public.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "the receiver reports ready");
        }
        finally
        {
            MakeUnwritable(_data, unwritable: false);
        }
    }

    [Fact]
    public async Task Rotating_the_secrets_mount_under_traffic_rejects_no_delivery_signed_with_either_slot()
    {
        var mount = new SecretsMount(_secrets, SecretA);
        await using var receiver = await ReceiverProcess.StartAsync(_secrets, _data, "--Webhook:SecretsPollInterval=00:00:00.500");
        var useB = 0;
        var sent = 0;
        var failures = new List<string>();
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref sent);
                // After the new secrets are loaded, Greenhouse may still sign with the old key (previous slot) or already with the new one.
                var secret = Volatile.Read(ref useB) == 1 && i % 2 == 0 ? SecretB : SecretA;
                var body = Encoding.UTF8.GetBytes(ProcessorHarness.Update(i, $"r{i}@example.com"));
                using var response = await receiver.Public.SendAsync(TestReceiver.Signed(body, $"rot-{i}", secret));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    lock (failures)
                    {
                        failures.Add($"{i} signed with {(secret == SecretA ? "A" : "B")}: {(int)response.StatusCode}");
                    }
                }
            }
        })).ToArray();

        await Eventually.TrueAsync(() => Volatile.Read(ref sent) > 100, "traffic flows with the first secret");
        mount.Update(SecretB, SecretA);
        await Eventually.TrueAsync(async () => Number(await HealthAsync(receiver), "secretsGeneration") == 2, "the rotated secrets are loaded");
        Volatile.Write(ref useB, 1);
        var atSwitch = Volatile.Read(ref sent);
        await Eventually.TrueAsync(() => Volatile.Read(ref sent) > atSwitch + 200, "traffic flows with both secrets");
        await stop.CancelAsync();
        await Task.WhenAll(senders);

        Assert.Empty(failures);
        var health = await HealthAsync(receiver);
        Assert.True(Number(health, "verifiedPrevious") > 50, health.ToString());
        Assert.True(Number(health, "verifiedCurrent") > 150, health.ToString());
    }

    [Fact]
    public async Task Wrong_Harvest_secret_does_not_crash_the_process_and_a_swapped_credentials_mount_brings_the_mirror_in_line()
    {
        await using var greenhouse = await Sandbox.Greenhouse.GreenhouseSimulator.StartAsync(new Sandbox.Greenhouse.GreenhouseSimulatorOptions { CandidateCount = 20, RateLimit = 1000, RateLimitWindow = TimeSpan.FromSeconds(1) });
        _ = new SecretsMount(_secrets, SecretA);
        var client = greenhouse.DefaultClient;
        var credentials = new ProjectedSecret(Path.Combine(_root, "harvest"), new Dictionary<string, string> { ["client_id"] = client.ClientId, ["client_secret"] = "not-the-secret" });
        await using var receiver = await ReceiverProcess.StartAsync(_secrets, _data,
            "--Harvest:Enabled=true", $"--Harvest:CredentialsDirectory={credentials.Path}", $"--Harvest:SyncUserId={greenhouse.SyncUserId}",
            $"--Harvest:BaseUrl={greenhouse.HarvestBaseUrl}", $"--Harvest:TokenUrl={greenhouse.TokenUrl}",
            "--Webhook:SecretsPollInterval=00:00:00.200", "--Processing:RetryBaseDelay=00:00:00.100", "--Processing:RetryMaxDelay=00:00:00.500");
        Assert.True(await greenhouse.RegisterWebhookAsync(new Sandbox.Greenhouse.WebhookRegistration(new Uri(receiver.Public.BaseAddress!, "/webhooks/greenhouse"), SecretA)));
        var id = greenhouse.CandidateIds[2];
        greenhouse.UpdateCandidate(id, c => c["title"] = "Sent while unauthorized");

        await Eventually.TrueAsync(async () => await HealthAsync(receiver) is var health
            && health.GetProperty("harvest").TryGetProperty("unauthorized", out var unauthorized) && unauthorized.GetBoolean()
            && Number(health, "eventsProcessed") >= 1, "the process reports unauthorized and applied the webhook");
        Assert.False(receiver.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await receiver.Public.GetAsync("/readyz")).StatusCode);
        Assert.DoesNotContain("not-the-secret", receiver.Output, StringComparison.Ordinal);

        credentials.Update(new Dictionary<string, string> { ["client_id"] = client.ClientId, ["client_secret"] = client.ClientSecret });

        await Eventually.TrueAsync(async () => await HealthAsync(receiver) is var health
            && health.GetProperty("harvest").TryGetProperty("authenticated", out var authenticated) && authenticated.GetBoolean()
            && Number(health, "candidates") == 20 && Number(health, "hydrationsPending") == 0, "the mirror holds every Greenhouse candidate");
        var candidate = JsonDocument.Parse(await receiver.Api.GetStringAsync($"/v1/candidates/{id}")).RootElement;
        Assert.Contains("Sent while unauthorized", candidate.ToString(), StringComparison.Ordinal);
        Assert.Contains(greenhouse.GetCandidate(id)!["email_addresses"]![0]!["value"]!.GetValue<string>(), candidate.ToString(), StringComparison.Ordinal);
        Assert.False(receiver.HasExited);
    }

    [Theory]
    [InlineData("--Harvest:Enabled=maybe", "Harvest:Enabled 'maybe' is not true or false")]
    [InlineData("--Webhook:SecretsDirectory=/nonexistent/greenhouse-secrets", "Webhook:SecretsDirectory '/nonexistent/greenhouse-secrets' does not exist")]
    public async Task Invalid_configuration_stops_the_process_with_one_clear_line(string setting, string expected)
    {
        _ = new SecretsMount(_secrets, SecretA);
        await using var receiver = await ReceiverProcess.StartAsync(_secrets, _data, setting);
        Assert.Equal(2, await receiver.ExitCodeAsync());
        var line = Assert.Single(receiver.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("greenhouse-receiver: configuration error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    /// <summary>chmod does not stop root, so as root the folder is made immutable instead.</summary>
    private static void MakeUnwritable(string path, bool unwritable)
    {
        var start = Environment.UserName == "root"
            ? new ProcessStartInfo("chattr", [unwritable ? "+i" : "-i", path])
            : new ProcessStartInfo("chmod", [unwritable ? "555" : "755", path]);
        using var process = Process.Start(start)!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
