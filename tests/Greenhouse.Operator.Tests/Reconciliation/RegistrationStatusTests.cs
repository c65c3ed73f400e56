using ControllerRuntime;
using Greenhouse.Harvest;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Reconciliation;
using k8s.Models;

namespace Greenhouse.Operator.Tests.Reconciliation;

/// <summary>
/// The status function with spec.webhook.registration HarvestApi: WebhookSecretReady (and Ready) per registration
/// situation, and status.webhook's registration fields, as a table like <see cref="StatusBuilderTests"/>.
/// </summary>
public sealed class RegistrationStatusTests
{
    private static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    private static readonly IList<WebhookRegistrationStatus> Two =
    [
        new() { EventType = "delete_candidate", Id = 9001 },
        new() { EventType = "update_candidate", Id = 9002 },
    ];

    public static readonly TheoryData<string, string> Table = new()
    {
        { "pending-first-registration", "Ready=False/RegistrationPending WebhookSecretReady=False/RegistrationPending" },
        { "registered", "Ready=True/Ready WebhookSecretReady=True/Registered" },
        { "rotated-awaiting-patch", "Ready=True/Ready WebhookSecretReady=True/AwaitingAdoption" },
        { "missing-scope", "Ready=False/MissingScope WebhookSecretReady=False/MissingScope" },
        { "refused", "Ready=False/RegistrationRefused WebhookSecretReady=False/RegistrationRefused" },
        { "unreachable", "Ready=False/RegistrationFailed WebhookSecretReady=False/RegistrationFailed" },
        { "not-attempted-keeps-recorded", "Ready=True/Ready WebhookSecretReady=True/Registered" },
        { "manual", "Ready=True/Ready WebhookSecretReady=True/SecretReady" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Registration_situation_produces_the_expected_conditions(string situation, string expected)
    {
        var result = StatusBuilder.Build(Case(situation));

        var conditions = result.Status.Conditions!.Where(c => c.Type is ConditionTypes.Ready or ConditionTypes.WebhookSecretReady);
        Assert.Equal(expected, string.Join(' ', conditions.Select(c => $"{c.Type}={c.Status}/{c.Reason}")));
        Assert.All(result.Status.Conditions!, c => Assert.False(string.IsNullOrWhiteSpace(c.Message)));
    }

    [Fact]
    public void Registered_status_lists_the_webhook_ids_per_event_type_and_the_confirmed_version()
    {
        var webhook = StatusBuilder.Build(Case("registered")).Status.Webhook!;

        Assert.Equal(Two, webhook.Registrations);
        Assert.Equal(1, webhook.RegisteredSecretVersion);
        Assert.Equal("cfg", webhook.RegisteredConfig);
        Assert.Equal(Now.AddMinutes(-1), webhook.RegisteredAt);
    }

    [Fact]
    public void A_missing_scope_is_named_and_a_retry_is_scheduled()
    {
        var result = StatusBuilder.Build(Case("missing-scope"));
        var condition = Conditions.Find(result.Status.Conditions, ConditionTypes.WebhookSecretReady)!;

        Assert.Contains("harvest:webhooks:create", condition.Message, StringComparison.Ordinal);
        Assert.Equal(Now.AddSeconds(30), result.NextCheckAt);
    }

    [Fact]
    public void A_pending_registration_says_it_waits_for_the_receivers()
    {
        var condition = Conditions.Find(StatusBuilder.Build(Case("pending-first-registration")).Status.Conditions, ConditionTypes.WebhookSecretReady)!;

        Assert.Contains("2 webhooks", condition.Message, StringComparison.Ordinal);
        Assert.Contains("once every ready receiver pod has loaded it", condition.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_an_outcome_the_recorded_registrations_stay_and_in_manual_mode_they_are_dropped()
    {
        Assert.Equal(Two, StatusBuilder.Build(Case("not-attempted-keeps-recorded")).Status.Webhook!.Registrations);
        Assert.Null(StatusBuilder.Build(Case("manual")).Status.Webhook!.Registrations);
    }

    [Fact]
    public void A_manual_integration_whose_finalizer_is_still_there_keeps_reporting_its_registrations()
    {
        var inputs = Case("manual");
        inputs = inputs with
        {
            Integration = new GreenhouseIntegration
            {
                Metadata = new V1ObjectMeta { Name = "acme", NamespaceProperty = "recruiting", Finalizers = [WebhookRegistrationMode.Finalizer] },
                Spec = inputs.Integration.Spec,
                Status = inputs.Integration.Status,
            },
        };

        Assert.Equal(Two, StatusBuilder.Build(inputs).Status.Webhook!.Registrations);
    }

    private static StatusInputs Case(string situation)
    {
        var recorded = new WebhookStatus { SecretVersion = 1, Registrations = Two, RegisteredSecretVersion = 1, RegisteredConfig = "cfg", RegisteredAt = Now.AddMinutes(-1) };
        var confirmed = RegistrationOutcome.Unchanged(recorded);
        var harvestApi = Integration(WebhookRegistrationMode.HarvestApi, recorded);
        var basic = new StatusInputs { Integration = harvestApi, Now = Now, Deployment = Deployment(), Webhook = Plan(version: 1, previous: false), Registration = confirmed };
        InputProblem Refusal(string reason, string message) => new(reason, message, ConditionTypes.WebhookSecretReady);
        return situation switch
        {
            "pending-first-registration" => basic with { Integration = Integration(WebhookRegistrationMode.HarvestApi, null), Registration = RegistrationOutcome.Unchanged(null) with { AwaitingReceivers = true } },
            "registered" => basic,
            "rotated-awaiting-patch" => basic with { Webhook = Plan(version: 2, previous: true), Registration = confirmed with { AwaitingReceivers = true } },
            "missing-scope" => basic with { Registration = confirmed with { Problem = Refusal(ConditionReasons.MissingScope, "Greenhouse refused to create the update_candidate webhook: the Harvest credential in Secret \"acme-harvest\" lacks the scope harvest:webhooks:create."), RetryAt = Now.AddSeconds(30) } },
            "refused" => basic with { Registration = confirmed with { Problem = Refusal(ConditionReasons.RegistrationRefused, "Greenhouse refused to list webhooks (401)") } },
            "unreachable" => basic with { Registration = confirmed with { Problem = Refusal(ConditionReasons.RegistrationFailed, "Could not list webhooks in Greenhouse") } },
            "not-attempted-keeps-recorded" => basic with { Registration = null },
            "manual" => basic with { Integration = Integration(WebhookRegistrationMode.Manual, recorded), Registration = null },
            _ => throw new ArgumentOutOfRangeException(nameof(situation)),
        };
    }

    private static GreenhouseIntegration Integration(string mode, WebhookStatus? webhook) => new()
    {
        Metadata = new V1ObjectMeta { Name = "acme", NamespaceProperty = "recruiting", Generation = 1, CreationTimestamp = Now.AddDays(-1) },
        Spec = new GreenhouseIntegrationSpec
        {
            Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme", Events = ["update_candidate", "delete_candidate"], Registration = mode },
        },
        Status = webhook is null ? null : new GreenhouseIntegrationStatus { Webhook = webhook },
    };

    private static V1Deployment Deployment() => new()
    {
        Metadata = new V1ObjectMeta { Name = "acme-receiver", Generation = 1 },
        Spec = new V1DeploymentSpec { Replicas = 1 },
        Status = new V1DeploymentStatus
        {
            ObservedGeneration = 1, Replicas = 1, ReadyReplicas = 1, UpdatedReplicas = 1, AvailableReplicas = 1,
            Conditions = [new V1DeploymentCondition { Type = "Available", Status = "True" }],
        },
    };

    private static WebhookSecretPlan Plan(long version, bool previous) => new()
    {
        Current = "current-secret"u8.ToArray(),
        Previous = previous ? "old-secret"u8.ToArray() : null,
        Status = new WebhookStatus { SecretVersion = version, RotatedAt = Now.AddHours(-1), Adopted = !previous },
    };
}
