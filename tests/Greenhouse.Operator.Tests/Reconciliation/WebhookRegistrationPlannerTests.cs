using Greenhouse.Harvest;
using Greenhouse.Operator.Reconciliation;

namespace Greenhouse.Operator.Tests.Reconciliation;

/// <summary>What the registrar does in Greenhouse for a desired registration and what Greenhouse lists.</summary>
public sealed class WebhookRegistrationPlannerTests
{
    private const string Owner = "uid-1";
    private static readonly DesiredRegistration Desired = new(new Uri("https://hooks.example.com/greenhouse/acme"), ["update_candidate", "delete_candidate"],
        "0123456789abcdef0123456789abcdef", 3, "greenhouse", "pw", Owner, "recruiting/acme");

    [Fact]
    public void Nothing_listed_creates_one_webhook_per_event_type()
    {
        var actions = WebhookRegistrationPlanner.Plan(Desired, [], null);

        Assert.Equal(["Create delete_candidate", "Create update_candidate"], actions.Select(Render));
    }

    [Fact]
    public void Webhooks_in_step_are_kept_and_others_owners_webhooks_are_never_touched()
    {
        var listed = new[] { Ours(1, "update_candidate"), Ours(2, "delete_candidate"), Ours(3, "update_candidate") with { Name = "someone else's" }, Ours(4, "hire_candidate") with { Name = "recruiting/acme hire_candidate (greenhouse-operator uid-2)" } };

        var actions = WebhookRegistrationPlanner.Plan(Desired, listed, Desired.Config);

        Assert.Equal(["Keep delete_candidate 2", "Keep update_candidate 1"], actions.Select(Render));
    }

    [Fact]
    public void A_changed_secret_url_or_basic_auth_updates_extra_event_types_and_duplicates_are_deleted()
    {
        var listed = new[] { Ours(1, "update_candidate"), Ours(2, "delete_candidate") with { EndpointUrl = "https://old.example.com/x" }, Ours(5, "update_candidate"), Ours(6, "job_created") };

        var secretChanged = WebhookRegistrationPlanner.Plan(Desired, [Ours(1, "update_candidate"), Ours(2, "delete_candidate")], "older-config");
        var mixed = WebhookRegistrationPlanner.Plan(Desired, listed, Desired.Config);
        var basicAuthChanged = WebhookRegistrationPlanner.Plan(Desired with { BasicAuthUsername = null, BasicAuthPassword = null }, [Ours(1, "update_candidate"), Ours(2, "delete_candidate")], Desired.Config);

        Assert.Equal(["Update delete_candidate 2", "Update update_candidate 1"], secretChanged.Select(Render));
        Assert.Equal(["Update delete_candidate 2", "Keep update_candidate 1", "Delete update_candidate 5", "Delete job_created 6"], mixed.Select(Render));
        Assert.All(basicAuthChanged, a => Assert.Equal(RegistrationActionKind.Update, a.Kind));
    }

    [Fact]
    public void The_config_hash_changes_with_secret_version_url_and_basic_auth_and_hides_the_password()
    {
        var config = Desired.Config;

        Assert.NotEqual(config, (Desired with { SecretVersion = 4 }).Config);
        Assert.NotEqual(config, (Desired with { BasicAuthPassword = "other" }).Config);
        Assert.NotEqual(config, (Desired with { EndpointUrl = new Uri("https://hooks.example.com/other") }).Config);
        Assert.NotEqual(config, (Desired with { SecretKey = "fedcba9876543210fedcba9876543210" }).Config);
        Assert.Equal(config, (Desired with { Events = ["job_created"] }).Config);
        Assert.DoesNotContain("pw", config, StringComparison.Ordinal);
        Assert.Equal(32, config.Length);
    }

    private static HarvestWebhook Ours(long id, string eventType) => new()
    {
        Id = id,
        Name = Desired.Name(eventType),
        EndpointUrl = Desired.EndpointUrl.AbsoluteUri,
        EventActionType = eventType,
        BasicAuthUsername = "greenhouse",
        Deactivated = false,
    };

    private static string Render(RegistrationAction action) => $"{action.Kind} {action.EventType}{(action.Id is { } id ? " " + id : "")}";
}
