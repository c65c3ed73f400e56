using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Receiver.Mirror;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Greenhouse;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>A receiver in Harvest mode against a <see cref="GreenhouseSimulator"/>, both on 127.0.0.1, with the simulator's webhook pointed at the receiver.</summary>
internal sealed class HarvestReceiver : IAsyncDisposable
{
    private HarvestReceiver(GreenhouseSimulator greenhouse, TestReceiver receiver, string credentials)
    {
        Greenhouse = greenhouse;
        Receiver = receiver;
        Credentials = credentials;
    }

    public GreenhouseSimulator Greenhouse { get; }
    public TestReceiver Receiver { get; }
    public string Credentials { get; }
    public CandidateMirror Mirror => Receiver.Services.GetRequiredService<CandidateMirror>();

    public static async Task<HarvestReceiver> StartAsync(int candidates = 20, string? clientSecret = null, Action<GreenhouseSimulatorOptions>? simulator = null,
        IEnumerable<string>? extraArgs = null)
    {
        var options = new GreenhouseSimulatorOptions { CandidateCount = candidates, RateLimit = 1000, RateLimitWindow = TimeSpan.FromSeconds(1), WebhookRetryTimeScale = 0.0001 };
        simulator?.Invoke(options);
        var greenhouse = await GreenhouseSimulator.StartAsync(options);
        var root = Directory.CreateTempSubdirectory("ghr-harvest-").FullName;
        var credentials = Path.Combine(root, "harvest");
        Directory.CreateDirectory(credentials);
        await File.WriteAllTextAsync(Path.Combine(credentials, "client_id"), greenhouse.DefaultClient.ClientId);
        await File.WriteAllTextAsync(Path.Combine(credentials, "client_secret"), clientSecret ?? greenhouse.DefaultClient.ClientSecret);
        TestReceiver receiver;
        try
        {
            receiver = await TestReceiver.StartAsync(
            [
                "--Harvest:Enabled=true",
                $"--Harvest:CredentialsDirectory={credentials}",
                $"--Harvest:SyncUserId={greenhouse.SyncUserId}",
                $"--Harvest:BaseUrl={greenhouse.HarvestBaseUrl}",
                $"--Harvest:TokenUrl={greenhouse.TokenUrl}",
                "--Sync:HydrationDebounce=00:00:00.050",
                "--Sync:HydrationMaxDelay=00:00:00.500",
                "--Processing:RetryBaseDelay=00:00:00.100",
                "--Processing:RetryMaxDelay=00:00:00.500",
                "--Webhook:SecretsPollInterval=00:00:00.200",
                .. extraArgs ?? [],
            ], root: root);
        }
        catch
        {
            await greenhouse.DisposeAsync();
            throw;
        }
        var harness = new HarvestReceiver(greenhouse, receiver, credentials);
        Assert.True(await greenhouse.RegisterWebhookAsync(new WebhookRegistration(new Uri(receiver.Public.BaseAddress!, "/webhooks/greenhouse"), TestReceiver.Secret)));
        return harness;
    }

    public async Task<SyncHealthReport> HealthAsync() => await Receiver.Health.GetSyncHealthAsync(new GetSyncHealthRequest());

    /// <summary>True when the mirror holds exactly Harvest's e-mails and names for the candidate.</summary>
    public bool MirrorMatchesGreenhouse(long id)
    {
        var expected = Greenhouse.GetCandidate(id);
        var actual = Mirror.Get(id);
        if (expected is null || actual is null)
        {
            return expected is null && actual is null;
        }
        var emails = expected["email_addresses"]!.AsArray().Select(e => e!["value"]!.GetValue<string>()).ToList();
        return actual.FirstName == expected["first_name"]?.GetValue<string>()
            && actual.LastName == expected["last_name"]?.GetValue<string>()
            && actual.EmailAddresses.Select(e => e.Value).SequenceEqual(emails);
    }

    public async ValueTask DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await Greenhouse.DisposeAsync();
    }
}
