using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using k8s;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>Fault injection and leader election against the emulated API server.</summary>
public sealed class ReliabilityIntegrationTests
{
    private static readonly string[] Names = ["acme", "globex", "initech"];

    [Fact]
    public async Task Operator_converges_through_server_errors_conflicts_dropped_and_expired_watches_without_duplicates()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        foreach (var name in Names)
        {
            await harness.CreateIntegrationAsync(name, new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = $"https://hooks.example.com/{name}" } });
        }

        var faults = harness.Api.Faults;
        faults.FailShareOfRequests(0.15, 500);
        faults.ConflictOnNextWrites("deployments", 3);
        faults.ConflictOnNextWrites("greenhouseintegrations", 3);
        foreach (var name in Names)
        {
            await OperatorHarness.RetryAsync(async () =>
            {
                await harness.PatchSpecAsync(name, new { sync = new { resyncInterval = "5m" } });
                return true;
            });
        }

        faults.CompactHistory();
        faults.CloseWatches();
        faults.ExpireNextWatch();
        foreach (var name in Names)
        {
            await Eventually.TrueAsync(
                async () => (await OperatorHarness.RetryAsync(() => harness.FindConfigMapAsync($"{name}-receiver")))?.Data["Sync__ResyncInterval"] == "00:05:00",
                $"{name}'s receiver settings follow the spec change", TimeSpan.FromSeconds(40));
        }

        // Like a deployment controller, report the latest template available until the operator says Ready
        // (the operator may still be retrying a conflicting Deployment update when first asked).
        foreach (var name in Names)
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    // The ConfigMap is applied before the Deployment: with injected 500s the Deployment may not exist yet.
                    if (await OperatorHarness.RetryAsync(() => harness.FindDeploymentAsync($"{name}-receiver")) is null)
                    {
                        return false;
                    }
                    await OperatorHarness.RetryAsync(async () =>
                    {
                        await harness.MarkDeploymentAvailableAsync($"{name}-receiver");
                        return true;
                    });
                    return (await OperatorHarness.RetryAsync(() => harness.ReadyConditionAsync(name)))?.Status == "True";
                },
                $"{name} is Ready", TimeSpan.FromSeconds(40));
        }

        faults.Reset();
        var ns = OperatorHarness.Namespace;
        var deployments = await harness.Client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: $"{ResourceLabels.ManagedBy}={ResourceLabels.OperatorName}");
        var secrets = await harness.Client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: $"{ResourceLabels.ManagedBy}={ResourceLabels.OperatorName}");
        Assert.Equal(Names.Length, deployments.Items.Count);
        Assert.Equal(Names.Length, secrets.Items.Count);
        Assert.All(Names, name => Assert.Single(deployments.Items, d => d.Metadata.Labels[ResourceLabels.Instance] == name));
    }

    [Fact]
    public async Task Two_operators_with_leader_election_never_both_write_and_the_standby_takes_over()
    {
        await using var harness = await OperatorHarness.StartAsync();
        var writesA = new WriteRecorder();
        var writesB = new WriteRecorder();
        var a = await harness.StartOperatorAsync(OperatorHarness.Settings("operator-a", leaderElection: true), writesA);
        var b = await harness.StartOperatorAsync(OperatorHarness.Settings("operator-b", leaderElection: true), writesB);
        var bothLed = false;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                bothLed |= a.Manager.IsLeader && b.Manager.IsLeader;
                await Task.Yield();
            }
        });

        await Eventually.TrueAsync(() => a.Manager.IsLeader || b.Manager.IsLeader, "one operator leads");
        var (leader, standby, leaderWrites, standbyWrites) = a.Manager.IsLeader ? (a, b, writesA, writesB) : (b, a, writesB, writesA);
        await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/acme" } });
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the leader created the Deployment");
        Assert.NotEmpty(leaderWrites.ObjectWrites);
        Assert.Empty(standbyWrites.ObjectWrites);

        await harness.StopOperatorAsync(leader);
        await Eventually.TrueAsync(() => standby.Manager.IsLeader, "the standby takes over after the lease expires");
        await harness.CreateIntegrationAsync("globex", new GreenhouseIntegrationSpec { Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/globex" } });
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("globex-receiver") is not null, "the new leader reconciles");

        await sampling.CancelAsync();
        await sampler;
        Assert.False(bothLed, "both operators held the lease at the same time");
        Assert.NotEmpty(standbyWrites.ObjectWrites);
    }
}
