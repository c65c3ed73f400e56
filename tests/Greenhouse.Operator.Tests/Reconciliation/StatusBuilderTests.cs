using ControllerRuntime;
using Google.Protobuf.WellKnownTypes;
using Greenhouse.Contracts;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Harvest;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Health;
using Greenhouse.Operator.Reconciliation;
using k8s.Models;

namespace Greenhouse.Operator.Tests.Reconciliation;

/// <summary>
/// Table of situations and the five conditions (type=status/reason, in status order) they must produce,
/// like the DesiredStateBuilder golden tests but for the status function.
/// </summary>
public sealed class StatusBuilderTests
{
    private static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Created = Now.AddDays(-3);

    public static readonly TheoryData<string, string> Table = new()
    {
        { "healthy-webhook-only", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=True/Synced" },
        { "healthy-harvest", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Authenticated Synced=True/Synced" },
        { "not-polled-yet", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=Unknown/AwaitingHealth" },
        { "deployment-creating", "Ready=False/Creating ReceiverAvailable=False/Creating WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=Unknown/AwaitingHealth" },
        { "suspended", "Ready=False/Suspended ReceiverAvailable=False/Suspended WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=False/Suspended" },
        { "harvest-secret-missing", "Ready=False/SecretNotFound ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=False/SecretNotFound Synced=True/Synced" },
        { "webhook-secret-missing", "Ready=False/SecretNotFound ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=False/SecretNotFound HarvestAuthenticated=True/Disabled Synced=True/Synced" },
        { "harvest-rejected-held-back", "Ready=False/CredentialsRejected ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=False/CredentialsRejected Synced=True/Synced" },
        { "harvest-unreachable", "Ready=False/Unreachable ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=False/Unreachable Synced=True/Synced" },
        { "harvest-refused-by-receivers", "Ready=False/CredentialsRejected ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=False/CredentialsRejected Synced=True/Synced" },
        { "harvest-missing-scope", "Ready=False/MissingScope ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=False/MissingScope Synced=True/Synced" },
        { "harvest-awaiting-token", "Ready=False/AwaitingToken ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=Unknown/AwaitingToken Synced=Unknown/AwaitingHealth" },
        { "rotation-awaiting-adoption", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/AwaitingAdoption HarvestAuthenticated=True/Disabled Synced=True/Synced" },
        { "rotation-not-adopted", "Ready=False/RotationNotAdopted ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=False/RotationNotAdopted HarvestAuthenticated=True/Disabled Synced=True/Synced" },
        { "receiver-unreachable", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=Unknown/ReceiverUnreachable" },
        { "one-of-two-unreachable", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=False/ReceiverUnreachable" },
        { "stale", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Authenticated Synced=False/Stale" },
        { "sweep-failing", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Authenticated Synced=False/SweepFailing" },
        { "sweep-error-once", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Authenticated Synced=True/Synced" },
        { "lag-too-high", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=False/LagTooHigh" },
        { "backlogged", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=False/EventsBacklogged" },
        { "dead-letters", "Ready=True/Ready ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=True/SecretReady HarvestAuthenticated=True/Disabled Synced=False/DeadLetters" },
        { "apply-failed", "Ready=False/ApplyFailed ReceiverAvailable=True/MinimumReplicasAvailable WebhookSecretReady=Unknown/Creating HarvestAuthenticated=True/Disabled Synced=True/Synced" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Situation_produces_the_expected_conditions(string situation, string expected)
    {
        var result = StatusBuilder.Build(Case(situation));

        Assert.Equal(expected, Render(result.Status.Conditions));
        Assert.All(result.Status.Conditions!, c => Assert.False(string.IsNullOrWhiteSpace(c.Message), $"{c.Type} has a message"));
    }

    [Fact]
    public void Rejected_harvest_credentials_name_the_secret_the_error_and_that_the_old_ones_are_kept()
    {
        var harvest = Conditions.Find(StatusBuilder.Build(Case("harvest-rejected-held-back")).Status.Conditions, ConditionTypes.HarvestAuthenticated)!;

        Assert.Contains("Secret \"acme-harvest\"", harvest.Message, StringComparison.Ordinal);
        Assert.Contains("401 invalid_client", harvest.Message, StringComparison.Ordinal);
        Assert.Contains("keep the last working credentials", harvest.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rotation_not_adopted_says_how_to_read_the_new_key()
    {
        var webhook = Conditions.Find(StatusBuilder.Build(Case("rotation-not-adopted")).Status.Conditions, ConditionTypes.WebhookSecretReady)!;

        Assert.Contains("kubectl get secret acme-receiver-webhook -n recruiting -o jsonpath='{.data.secret_key}' | base64 -d", webhook.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_scope_is_named()
    {
        var harvest = Conditions.Find(StatusBuilder.Build(Case("harvest-missing-scope")).Status.Conditions, ConditionTypes.HarvestAuthenticated)!;

        Assert.Contains("harvest:candidates:list", harvest.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Health_fills_sync_and_harvest_status()
    {
        var status = StatusBuilder.Build(Case("healthy-harvest")).Status;

        Assert.Equal(new DateTime(2026, 12, 1, 11, 58, 0, DateTimeKind.Utc), status.Sync!.LastEventAt);
        Assert.Equal(42, status.Sync.Candidates);
        Assert.Equal(10, status.Sync.EventsAccepted);
        Assert.True(status.Harvest!.Authenticated);
        Assert.Equal(50, status.Harvest.RateLimit!.Remaining);
    }

    [Fact]
    public void Unchanged_situation_yields_no_transitions_and_transitions_are_reported_once()
    {
        var first = StatusBuilder.Build(Case("healthy-webhook-only"));
        Assert.Equal(ConditionTypes.Ready, Assert.Single(first.Transitions).Type); // a first status: one event, from the summary

        var again = Case("healthy-webhook-only");
        again = again with { Integration = WithStatus(again.Integration, first.Status), Now = Now.AddMinutes(5) };
        var second = StatusBuilder.Build(again);
        Assert.Empty(second.Transitions);
        Assert.Equal(first.Status.Conditions!.Select(c => c.LastTransitionTime), second.Status.Conditions!.Select(c => c.LastTransitionTime));

        var lagging = Case("lag-too-high");
        lagging = lagging with { Integration = WithStatus(lagging.Integration, first.Status) };
        var third = StatusBuilder.Build(lagging);
        var transition = Assert.Single(third.Transitions);
        Assert.Equal((ConditionTypes.Synced, ConditionReasons.LagTooHigh), (transition.Type, transition.Reason));
    }

    [Fact]
    public void First_status_of_a_receiver_being_created_records_no_event_but_the_next_transition_does()
    {
        var first = StatusBuilder.Build(Case("deployment-creating"));
        Assert.Equal(ConditionReasons.Creating, Conditions.Find(first.Status.Conditions, ConditionTypes.Ready)!.Reason);
        Assert.Empty(first.Transitions); // a new integration whose receiver is being created is not news (no Warning event)

        var available = Case("healthy-webhook-only");
        available = available with { Integration = WithStatus(available.Integration, first.Status) };
        var next = StatusBuilder.Build(available);
        // Becoming Ready is one event: ReceiverAvailable turning True with it is told by Ready's message.
        var ready = Assert.Single(next.Transitions);
        Assert.Equal((ConditionTypes.Ready, ConditionReasons.Ready), (ready.Type, ready.Reason));
    }

    [Fact]
    public void A_condition_turning_false_while_ready_turns_true_still_records_its_own_event()
    {
        var lagging = Case("lag-too-high");
        var first = StatusBuilder.Build(Case("deployment-creating"));
        lagging = lagging with { Integration = WithStatus(lagging.Integration, first.Status) };
        var next = StatusBuilder.Build(lagging);
        Assert.Contains(next.Transitions, t => t.Type == ConditionTypes.Ready && t.Status == Conditions.True);
        Assert.Contains(next.Transitions, t => t.Type == ConditionTypes.Synced && t.Reason == ConditionReasons.LagTooHigh);
        Assert.DoesNotContain(next.Transitions, t => t.Type == ConditionTypes.ReceiverAvailable);
    }

    [Fact]
    public void Stale_deadline_is_returned_for_a_requeue()
    {
        var result = StatusBuilder.Build(Case("healthy-harvest"));

        // Last sweep 11:55 (minute precision), staleAfter 1h.
        Assert.Equal(new DateTime(2026, 12, 1, 12, 55, 0, DateTimeKind.Utc), result.NextCheckAt);
    }

    [Fact]
    public void Stale_is_measured_from_the_last_sweep_to_the_second_not_from_its_minute_in_status()
    {
        // staleAfter 30s, last sweep 20 s ago (11:59:40): status shows 11:59, yet the sync is not stale.
        var integration = Integration(harvest: true);
        integration = new GreenhouseIntegration { Metadata = integration.Metadata, Spec = integration.Spec with { Sync = new SyncSpec { ResyncInterval = "5s", StaleAfter = "30s" } } };
        var inputs = Case("healthy-harvest") with { Integration = integration, Health = Health(HarvestReport(r => r.LastSweepAt = Timestamp.FromDateTime(Now.AddSeconds(-20)))) };

        var fresh = StatusBuilder.Build(inputs);
        var stale = StatusBuilder.Build(inputs with { Now = Now.AddSeconds(10) });

        Assert.Equal(new DateTime(2026, 12, 1, 11, 59, 0, DateTimeKind.Utc), fresh.Status.Sync!.LastResyncAt);
        Assert.Equal(ConditionReasons.Synced, Conditions.Find(fresh.Status.Conditions, ConditionTypes.Synced)!.Reason);
        Assert.Equal(Now.AddSeconds(10), fresh.NextCheckAt);
        Assert.Equal(ConditionReasons.Stale, Conditions.Find(stale.Status.Conditions, ConditionTypes.Synced)!.Reason);
    }

    [Fact]
    public void Stale_while_harvest_rate_limits_says_so_though_no_sweep_reported_an_error()
    {
        var inputs = Case("healthy-harvest") with
        {
            Health = Health(HarvestReport(r => { r.LastSweepAt = Timestamp.FromDateTime(Now.AddHours(-2)); r.Harvest.ThrottledResponses = 4; })),
        };

        var synced = Conditions.Find(StatusBuilder.Build(inputs).Status.Conditions, ConditionTypes.Synced)!;

        Assert.Equal(ConditionReasons.Stale, synced.Reason);
        Assert.Contains("429 Too Many Requests", synced.Message, StringComparison.Ordinal);
    }

    private static StatusInputs Case(string situation)
    {
        var webhookOnly = Integration(harvest: false);
        var withHarvest = Integration(harvest: true);
        var ok = Deployment(ready: true);
        var plan = Plan(previous: false, adopted: true, notAdopted: false);
        var healthy = Health(Report());
        var accepted = new HarvestValidation(HarvestTokenCheckOutcome.Accepted, "acme-harvest", "the token endpoint issued a token to client id", Now.AddMinutes(-1), Now.AddHours(1));
        var basic = new StatusInputs { Integration = webhookOnly, Now = Now, Deployment = ok, Webhook = plan, Health = healthy };
        var harvest = basic with { Integration = withHarvest, Health = Health(HarvestReport()), HarvestValidation = accepted };
        return situation switch
        {
            "healthy-webhook-only" => basic,
            "healthy-harvest" => harvest,
            "not-polled-yet" => basic with { Health = null },
            "deployment-creating" => basic with { Deployment = null, Health = null },
            "suspended" => basic with { Integration = Integration(harvest: false, suspend: true) },
            "harvest-secret-missing" => harvest with
            {
                HarvestValidation = null,
                Problem = new InputProblem(ConditionReasons.SecretNotFound, "Secret \"acme-harvest\" in namespace \"recruiting\" not found; create it with keys client_id and client_secret", ConditionTypes.HarvestAuthenticated),
            },
            "webhook-secret-missing" => basic with
            {
                Webhook = null,
                Problem = new InputProblem(ConditionReasons.SecretNotFound, "Secret \"acme-webhook\" in namespace \"recruiting\" not found", ConditionTypes.WebhookSecretReady),
            },
            "harvest-rejected-held-back" => harvest with
            {
                HarvestValidation = accepted with { Outcome = HarvestTokenCheckOutcome.Rejected, Message = "the token endpoint refused client id: 401 invalid_client" },
                HarvestHeldBack = true,
            },
            "harvest-unreachable" => harvest with
            {
                HarvestValidation = accepted with { Outcome = HarvestTokenCheckOutcome.Unreachable, Message = "the token endpoint could not be reached" },
                HarvestHeldBack = true,
            },
            "harvest-refused-by-receivers" => harvest with { Health = Health(HarvestReport(r => { r.Harvest.Authenticated = false; r.Harvest.Unauthorized = true; r.Harvest.LastError = "401 invalid_client"; })) },
            "harvest-missing-scope" => harvest with { Health = Health(HarvestReport(r => r.Harvest.MissingScopes.Add("harvest:candidates:list"))) },
            "harvest-awaiting-token" => harvest with { Health = null, HarvestValidation = null },
            "rotation-awaiting-adoption" => basic with { Webhook = Plan(previous: true, adopted: false, notAdopted: false) },
            "rotation-not-adopted" => basic with { Webhook = Plan(previous: true, adopted: false, notAdopted: true) },
            "receiver-unreachable" => basic with { Health = HealthAggregator.Summarize(new ReceiverHealth(Now, [new PodHealth("acme-receiver-0", null, "SyncHealth failed with Unavailable")])) },
            "one-of-two-unreachable" => basic with
            {
                Health = HealthAggregator.Summarize(new ReceiverHealth(Now, [new PodHealth("acme-receiver-0", Report(), null), new PodHealth("acme-receiver-1", null, "SyncHealth failed with DeadlineExceeded")])),
            },
            "stale" => harvest with { Health = Health(HarvestReport(r => { r.LastSweepAt = Timestamp.FromDateTime(Now.AddHours(-2)); r.LastSweepError = "Harvest answered 429"; })) },
            "sweep-failing" => harvest with { Health = Health(HarvestReport(r => { r.LastSweepAt = Timestamp.FromDateTime(Now.AddMinutes(-40)); r.LastSweepError = "Harvest answered 401"; })) },
            "sweep-error-once" => harvest with { Health = Health(HarvestReport(r => { r.LastSweepAt = Timestamp.FromDateTime(Now.AddMinutes(-20)); r.LastSweepError = "Harvest answered 429"; })) },
            "lag-too-high" => basic with { Health = Health(Report(r => { r.LagSeconds = 420; r.PendingEvents = 12; })) },
            "backlogged" => basic with { Health = Health(Report(r => r.PendingEvents = 5000)) },
            "dead-letters" => basic with { Health = Health(Report(r => r.DeadLetters = 3)) },
            "apply-failed" => basic with { ApplyFailure = "Writing Deployment \"acme-receiver\" failed: 422 spec.template is invalid", Webhook = null },
            _ => throw new ArgumentOutOfRangeException(nameof(situation)),
        };
    }

    private static GreenhouseIntegration Integration(bool harvest, bool suspend = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = "acme", NamespaceProperty = "recruiting", Generation = 2, CreationTimestamp = Created },
        Spec = new GreenhouseIntegrationSpec
        {
            Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme" },
            Harvest = harvest ? new HarvestSpec { CredentialsSecretRef = new SecretReference { Name = "acme-harvest" }, SyncUserId = 4080 } : null,
            Sync = new SyncSpec { ResyncInterval = "15m", StaleAfter = "1h" },
            Suspend = suspend,
        },
    };

    private static GreenhouseIntegration WithStatus(GreenhouseIntegration integration, GreenhouseIntegrationStatus status) => new()
    {
        Metadata = integration.Metadata,
        Spec = integration.Spec,
        Status = status,
    };

    private static V1Deployment Deployment(bool ready) => new()
    {
        Metadata = new V1ObjectMeta { Name = "acme-receiver", Generation = 1 },
        Spec = new V1DeploymentSpec { Replicas = 1, Template = new V1PodTemplateSpec { Spec = new V1PodSpec { Containers = [new V1Container { Name = "receiver", Image = "receiver:1" }] } } },
        Status = new V1DeploymentStatus
        {
            ObservedGeneration = 1,
            Replicas = 1,
            ReadyReplicas = ready ? 1 : 0,
            UpdatedReplicas = 1,
            AvailableReplicas = ready ? 1 : 0,
            Conditions = [new V1DeploymentCondition { Type = "Available", Status = ready ? "True" : "False" }],
        },
    };

    private static WebhookSecretPlan Plan(bool previous, bool adopted, bool notAdopted) => new()
    {
        Current = "new-secret"u8.ToArray(),
        Previous = previous ? "old-secret"u8.ToArray() : null,
        NotAdopted = notAdopted,
        Status = new WebhookStatus { SecretVersion = previous ? 2 : 1, RotatedAt = Now.AddDays(-1), Adopted = adopted, NextRotationAt = Now.AddDays(80) },
    };

    private static SyncHealthReport Report(Action<SyncHealthReport>? change = null)
    {
        var report = new SyncHealthReport
        {
            EventsAccepted = 10,
            Candidates = 42,
            LastEventAt = Timestamp.FromDateTime(Now.AddSeconds(-75)),
            SecretsLoadedAt = Timestamp.FromDateTime(Now.AddDays(-1)),
            CurrentSecretFingerprint = SecretFingerprint.Of("new-secret"u8),
        };
        change?.Invoke(report);
        return report;
    }

    private static SyncHealthReport HarvestReport(Action<SyncHealthReport>? change = null)
    {
        var report = Report();
        report.HarvestEnabled = true;
        report.Harvest = new Greenhouse.Contracts.Receiver.V1.HarvestStatus { Authenticated = true, TokenExpiresAt = Timestamp.FromDateTime(Now.AddMinutes(40)), RateLimitLimit = 100, RateLimitRemaining = 50 };
        report.LastSweepAt = Timestamp.FromDateTime(Now.AddMinutes(-5));
        change?.Invoke(report);
        return report;
    }

    private static HealthSummary Health(SyncHealthReport report) =>
        HealthAggregator.Summarize(new ReceiverHealth(Now, [new PodHealth("acme-receiver-0", report, null)]));

    private static string Render(IEnumerable<Condition>? conditions) =>
        string.Join(" ", (conditions ?? []).Select(c => $"{c.Type}={c.Status}/{c.Reason}"));
}
