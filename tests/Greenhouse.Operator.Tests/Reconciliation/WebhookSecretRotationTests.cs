using System.Text;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Reconciliation;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace Greenhouse.Operator.Tests.Reconciliation;

/// <summary>
/// The rotation schedule on a fake clock: each step plans like a reconcile, then "writes" the plan into
/// the effective Secret (values + annotations) and the status, as the reconciler does.
/// </summary>
public sealed class WebhookSecretRotationTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private int _generated;

    [Fact]
    public void Generated_secret_is_created_once_and_rotated_when_the_interval_passes()
    {
        var state = new State(Integration(interval: "24h", grace: "2h"));

        var created = Step(state);
        Assert.True(created.Changed);
        Assert.Equal("Created", created.Trigger);
        Assert.Equal(1, created.Status.SecretVersion);
        Assert.Null(created.Previous);
        Assert.Equal(Now.AddHours(24), created.Status.NextRotationAt);
        Assert.Equal(Now.AddHours(24), created.NextDeadline);

        _clock.Advance(TimeSpan.FromHours(23));
        Assert.False(Step(state).Changed);

        _clock.Advance(TimeSpan.FromHours(1));
        var rotated = Step(state);
        Assert.True(rotated.Changed);
        Assert.Equal("Interval", rotated.Trigger);
        Assert.Equal(2, rotated.Status.SecretVersion);
        Assert.Equal("secret-1", Text(rotated.Previous));
        Assert.Equal("secret-2", Text(rotated.Current));
        Assert.False(rotated.Status.Adopted);
        Assert.Equal(Now.AddHours(2), rotated.NextDeadline); // grace deadline
    }

    [Fact]
    public void Annotation_rotates_once_per_new_value()
    {
        var state = new State(Integration(interval: "2160h", grace: "1h", rotate: "initial"));
        var created = Step(state);
        Assert.Equal("initial", created.Status.RotateRequest); // present at creation: handled, no rotation

        Assert.False(Step(state).Changed);
        state.Integration.Metadata.Annotations![ResourceAnnotations.Rotate] = "now";
        var rotated = Step(state);
        Assert.Equal(("Annotation", 2L, "now"), (rotated.Trigger, rotated.Status.SecretVersion!.Value, rotated.Status.RotateRequest));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.False(Step(state).Changed);
    }

    [Fact]
    public void Previous_secret_is_kept_until_adoption_then_for_the_grace_period()
    {
        var state = new State(Integration(interval: "2160h", grace: "30m"));
        Step(state);
        state.Verified.Add(SecretFingerprint.Of("secret-1"u8));
        Assert.True(Step(state).Status.Adopted);
        state.Integration.Metadata.Annotations = new Dictionary<string, string> { [ResourceAnnotations.Rotate] = "1" };
        Step(state);

        _clock.Advance(TimeSpan.FromMinutes(10));
        var waiting = Step(state);
        Assert.Equal("secret-1", Text(waiting.Previous));
        Assert.False(waiting.Status.Adopted);
        Assert.Null(waiting.Status.PreviousValidUntil);

        state.Verified.Add(SecretFingerprint.Of("secret-2"u8));
        var adopted = Step(state);
        Assert.True(adopted.Status.Adopted);
        Assert.Equal(Now, adopted.Status.AdoptedAt);
        Assert.Equal(Now.AddMinutes(30), adopted.Status.PreviousValidUntil);
        Assert.Equal(Now.AddMinutes(30), adopted.NextDeadline);
        Assert.Equal("secret-1", Text(adopted.Previous));

        _clock.Advance(TimeSpan.FromMinutes(29));
        Assert.NotNull(Step(state).Previous);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var dropped = Step(state);
        Assert.Null(dropped.Previous);
        Assert.Null(dropped.Status.PreviousValidUntil);
    }

    [Fact]
    public void Grace_period_over_without_adoption_keeps_the_previous_secret_and_says_so()
    {
        var state = new State(Integration(interval: "2160h", grace: "1h"));
        Step(state);
        state.Integration.Metadata.Annotations = new Dictionary<string, string> { [ResourceAnnotations.Rotate] = "x" };
        Step(state);

        _clock.Advance(TimeSpan.FromMinutes(59));
        Assert.False(Step(state).NotAdopted);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var late = Step(state);
        Assert.True(late.NotAdopted);
        Assert.Equal("secret-1", Text(late.Previous));

        // The admin pastes the key three hours late: adoption, then the previous secret for the grace period more.
        _clock.Advance(TimeSpan.FromHours(3));
        state.Verified.Add(SecretFingerprint.Of("secret-2"u8));
        var adopted = Step(state);
        Assert.False(adopted.NotAdopted);
        Assert.Equal("secret-1", Text(adopted.Previous));
        Assert.Equal(Now.AddHours(1), adopted.Status.PreviousValidUntil);
    }

    [Fact]
    public void Rotating_again_before_adoption_keeps_the_secret_greenhouse_still_uses()
    {
        var state = new State(Integration(interval: "2160h", grace: "1h"));
        Step(state);
        state.Verified.Add(SecretFingerprint.Of("secret-1"u8));
        Step(state);
        state.Integration.Metadata.Annotations = new Dictionary<string, string> { [ResourceAnnotations.Rotate] = "a" };
        Step(state);
        state.Integration.Metadata.Annotations[ResourceAnnotations.Rotate] = "b";
        var again = Step(state);

        Assert.Equal(("secret-3", "secret-1"), (Text(again.Current), Text(again.Previous)));
    }

    [Fact]
    public void A_lost_status_write_does_not_rotate_twice()
    {
        var state = new State(Integration(interval: "2160h", grace: "1h"));
        Step(state);
        state.Integration.Metadata.Annotations = new Dictionary<string, string> { [ResourceAnnotations.Rotate] = "a" };
        var plan = WebhookSecretRotation.Plan(state.Integration, null, state.Effective, state.Verified, Now, Generate);
        state.Effective = EffectiveWebhookSecret.From(SecretOf(plan)); // Secret written, status write lost

        var next = WebhookSecretRotation.Plan(state.Integration, null, state.Effective, state.Verified, Now, Generate);
        Assert.False(next.Changed);
        Assert.Equal(2, next.Status.SecretVersion);
    }

    [Fact]
    public void Changed_user_secret_keeps_the_old_value_for_the_grace_period_only()
    {
        var state = new State(Integration(interval: null, grace: "2h", secretRef: true)) { User = "user-1"u8.ToArray() };
        var first = Step(state);
        Assert.Null(first.Status.NextRotationAt);

        _clock.Advance(TimeSpan.FromDays(3));
        state.User = "user-2"u8.ToArray();
        var changed = Step(state);
        Assert.Equal(("SecretRefChanged", "user-2", "user-1"), (changed.Trigger, Text(changed.Current), Text(changed.Previous)));
        Assert.Equal(Now.AddHours(2), changed.Status.PreviousValidUntil);

        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("user-1", Text(Step(state).Previous));
        _clock.Advance(TimeSpan.FromHours(1));
        var expired = Step(state);
        Assert.Null(expired.Previous);
        Assert.False(expired.NotAdopted);
    }

    private DateTime Now => _clock.GetUtcNow().UtcDateTime;

    private byte[] Generate() => Encoding.ASCII.GetBytes($"secret-{++_generated}");

    private WebhookSecretPlan Step(State state)
    {
        var plan = WebhookSecretRotation.Plan(state.Integration, state.User is { } user ? new ReadOnlyMemory<byte>(user) : (ReadOnlyMemory<byte>?)null, state.Effective, state.Verified, Now, Generate);
        state.Effective = EffectiveWebhookSecret.From(SecretOf(plan));
        state.Integration.Status = new GreenhouseIntegrationStatus { Webhook = plan.Status };
        return plan;
    }

    private static V1Secret SecretOf(WebhookSecretPlan plan)
    {
        var data = new Dictionary<string, byte[]> { [SecretFileNames.WebhookSecret] = plan.Current.ToArray() };
        if (plan.Previous is { } previous)
        {
            data[SecretFileNames.PreviousWebhookSecret] = previous.ToArray();
        }

        return new V1Secret { Metadata = new V1ObjectMeta { Annotations = WebhookSecretRotation.Annotations(plan) }, Data = data };
    }

    private static string Text(ReadOnlyMemory<byte>? value) => value is { } v ? Encoding.ASCII.GetString(v.Span) : "(none)";

    private static GreenhouseIntegration Integration(string? interval, string grace, string? rotate = null, bool secretRef = false) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "acme",
            NamespaceProperty = "recruiting",
            Annotations = rotate is null ? null : new Dictionary<string, string> { [ResourceAnnotations.Rotate] = rotate },
        },
        Spec = new GreenhouseIntegrationSpec
        {
            Webhook = new WebhookSpec
            {
                Endpoint = "https://hooks.example.com/acme",
                SecretRef = secretRef ? new SecretKeyReference { Name = "acme-webhook" } : null,
                Rotation = new RotationSpec { Interval = interval, GracePeriod = grace },
            },
        },
    };

    private sealed class State(GreenhouseIntegration integration)
    {
        public GreenhouseIntegration Integration { get; } = integration;

        public EffectiveWebhookSecret? Effective { get; set; }

        public byte[]? User { get; set; }

        public List<string> Verified { get; } = [];
    }
}
