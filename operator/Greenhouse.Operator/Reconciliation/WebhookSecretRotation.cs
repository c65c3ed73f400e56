using System.Globalization;
using System.Security.Cryptography;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Pure schedule of the effective webhook secret. Its memory is the effective Secret (the values in
/// <c>secret_key</c> / <c>previous_secret_key</c> and the annotations written with them, so a lost
/// status write cannot rotate twice) plus <c>status.webhook</c> for adoption.
/// <list type="bullet">
/// <item>Generated (no secretRef): created on the first reconcile; rotated when rotatedAt + interval
/// passes or the rotate annotation carries a value not handled before. The previous secret stays until
/// a receiver verified a delivery with the new one (adoption), then for min(gracePeriod, 15 h) more so
/// Greenhouse's retries of deliveries signed before still pass. Without adoption by rotatedAt +
/// gracePeriod the previous secret is still kept and the plan says <see cref="WebhookSecretPlan.NotAdopted"/>.
/// A rotation before the current secret was adopted replaces only the current one: the previous one,
/// which Greenhouse still signs with, stays.</item>
/// <item>User-managed (secretRef): a changed value moves the old one to the previous slot for the grace period only.</item>
/// </list>
/// </summary>
public static class WebhookSecretRotation
{
    /// <summary>Annotation on the effective Secret: version of the current secret.</summary>
    public const string VersionAnnotation = "greenhouse.resource.io/secret-version";

    /// <summary>Annotation on the effective Secret: when the current secret took effect (RFC 3339).</summary>
    public const string RotatedAtAnnotation = "greenhouse.resource.io/rotated-at";

    /// <summary>Annotation on the effective Secret: the rotate annotation value already acted on.</summary>
    public const string RotateHandledAnnotation = "greenhouse.resource.io/rotate-handled";

    /// <summary>Annotation on the effective Secret: until when the previous user-managed secret is accepted.</summary>
    public const string PreviousValidUntilAnnotation = "greenhouse.resource.io/previous-valid-until";

    /// <summary>Greenhouse retries a failed delivery for about 15 hours.</summary>
    public static readonly TimeSpan GreenhouseRetryWindow = TimeSpan.FromHours(15);

    public static readonly TimeSpan DefaultInterval = TimeSpan.FromHours(2160);
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromHours(168);

    /// <param name="integration">The integration (spec, rotate annotation, status.webhook).</param>
    /// <param name="userSecret">The value of spec.webhook.secretRef; null for a generated secret.</param>
    /// <param name="effective">The effective Secret's data and annotations as last written (null before the first write).</param>
    /// <param name="verifiedFingerprints">Fingerprints of secrets with which receivers verified a delivery after loading them.</param>
    /// <param name="now">The clock.</param>
    /// <param name="generate">Source of new secrets.</param>
    public static WebhookSecretPlan Plan(
        GreenhouseIntegration integration,
        ReadOnlyMemory<byte>? userSecret,
        EffectiveWebhookSecret? effective,
        IReadOnlyCollection<string> verifiedFingerprints,
        DateTime now,
        Func<byte[]> generate)
    {
        ArgumentNullException.ThrowIfNull(integration);
        ArgumentNullException.ThrowIfNull(verifiedFingerprints);
        ArgumentNullException.ThrowIfNull(generate);
        var rotation = integration.Spec.Webhook.Rotation;
        var interval = rotation?.Interval is { } i ? GoDuration.Parse(i) : DefaultInterval;
        var grace = rotation?.GracePeriod is { } g ? GoDuration.Parse(g) : DefaultGracePeriod;
        var observed = integration.Status?.Webhook;
        string? annotation = null;
        integration.Metadata.Annotations?.TryGetValue(ResourceAnnotations.Rotate, out annotation);

        return userSecret is { } user
            ? PlanUserManaged(user, effective, observed, verifiedFingerprints, now, grace)
            : PlanGenerated(effective, observed, annotation, verifiedFingerprints, now, interval, grace, generate);
    }

    public static string Fingerprint(ReadOnlyMemory<byte> secret) => SecretFingerprint.Of(secret.Span);

    private static WebhookSecretPlan PlanGenerated(EffectiveWebhookSecret? effective, WebhookStatus? observed, string? annotation,
        IReadOnlyCollection<string> verified, DateTime now, TimeSpan interval, TimeSpan grace, Func<byte[]> generate)
    {
        if (effective?.Current is not { Length: > 0 } current)
        {
            // First reconcile: an annotation already present counts as handled (nothing to rotate yet).
            var created = generate();
            return Finish(created, null, version: (observed?.SecretVersion ?? 0) + 1, rotatedAt: now, handled: annotation,
                adoptedAt: null, verified, now, interval, grace, generated: true, changed: true, trigger: "Created");
        }

        var version = effective.Version ?? observed?.SecretVersion ?? 1;
        var rotatedAt = effective.RotatedAt ?? observed?.RotatedAt ?? now;
        var handled = effective.RotateHandled ?? observed?.RotateRequest;
        var byAnnotation = !string.IsNullOrEmpty(annotation) && annotation != handled;
        var adoptedAt = observed?.Adopted == true && observed.SecretVersion == version ? observed.AdoptedAt ?? now : (DateTime?)null;
        if (adoptedAt is null && verified.Contains(Fingerprint(current)))
        {
            adoptedAt = now;
        }

        if (byAnnotation || now >= rotatedAt + interval)
        {
            // The secret Greenhouse signs with is the current one once adopted, else still the previous one:
            // that one must stay accepted, and a current one never adopted can simply be replaced.
            var keep = adoptedAt is not null || effective.Previous is null ? current : effective.Previous;
            var fresh = generate();
            return Finish(fresh, keep, version + 1, now, string.IsNullOrEmpty(annotation) ? handled : annotation, adoptedAt: null,
                verified, now, interval, grace, generated: true, changed: true, trigger: byAnnotation ? "Annotation" : "Interval");
        }

        return Finish(current, effective.Previous, version, rotatedAt, handled, adoptedAt, verified, now, interval, grace, generated: true, changed: false, trigger: null);
    }

    private static WebhookSecretPlan PlanUserManaged(ReadOnlyMemory<byte> user, EffectiveWebhookSecret? effective, WebhookStatus? observed,
        IReadOnlyCollection<string> verified, DateTime now, TimeSpan grace)
    {
        var userBytes = user.ToArray();
        if (effective?.Current is not { Length: > 0 } current)
        {
            return FinishUser(userBytes, null, (observed?.SecretVersion ?? 0) + 1, now, null, null, verified, now, changed: true, trigger: "Created");
        }

        var version = effective.Version ?? observed?.SecretVersion ?? 1;
        if (!CryptographicOperations.FixedTimeEquals(current, userBytes))
        {
            return FinishUser(userBytes, current, version + 1, now, now + grace, null, verified, now, changed: true, trigger: "SecretRefChanged");
        }

        var rotatedAt = effective.RotatedAt ?? observed?.RotatedAt ?? now;
        var previous = effective.Previous;
        var validUntil = previous is null ? (DateTime?)null : effective.PreviousValidUntil ?? observed?.PreviousValidUntil ?? now + grace;
        if (validUntil is { } until && now >= until)
        {
            previous = null;
            validUntil = null;
        }

        var adoptedAt = observed?.Adopted == true && observed.SecretVersion == version ? observed.AdoptedAt ?? now : (DateTime?)null;
        return FinishUser(userBytes, previous, version, rotatedAt, validUntil, adoptedAt, verified, now, changed: false, trigger: null);
    }

    private static WebhookSecretPlan Finish(byte[] current, byte[]? previous, long version, DateTime rotatedAt, string? handled, DateTime? adoptedAt,
        IReadOnlyCollection<string> verified, DateTime now, TimeSpan interval, TimeSpan grace, bool generated, bool changed, string? trigger)
    {
        if (adoptedAt is null && !changed && verified.Contains(Fingerprint(current)))
        {
            adoptedAt = now;
        }

        var nextRotation = rotatedAt + interval;
        DateTime? validUntil = null;
        var notAdopted = false;
        var deadlines = new List<DateTime> { nextRotation };
        if (previous is not null)
        {
            if (adoptedAt is { } adopted)
            {
                validUntil = adopted + Min(grace, GreenhouseRetryWindow);
                if (now >= validUntil)
                {
                    previous = null;
                    validUntil = null;
                }
                else
                {
                    deadlines.Add(validUntil.Value);
                }
            }
            else if (now >= rotatedAt + grace)
            {
                notAdopted = true;
            }
            else
            {
                deadlines.Add(rotatedAt + grace);
            }
        }

        return new WebhookSecretPlan
        {
            Current = current,
            Previous = previous is null ? (ReadOnlyMemory<byte>?)null : new ReadOnlyMemory<byte>(previous),
            Changed = changed,
            Trigger = trigger,
            NotAdopted = notAdopted,
            NextDeadline = deadlines.Min(),
            Status = new WebhookStatus
            {
                SecretVersion = version,
                RotatedAt = Seconds(rotatedAt),
                NextRotationAt = generated ? Seconds(nextRotation) : null,
                PreviousValidUntil = validUntil is { } v ? Seconds(v) : null,
                Adopted = adoptedAt is not null,
                AdoptedAt = adoptedAt is { } a ? Seconds(a) : null,
                RotateRequest = handled,
            },
        };
    }

    private static WebhookSecretPlan FinishUser(byte[] current, byte[]? previous, long version, DateTime rotatedAt, DateTime? validUntil, DateTime? adoptedAt,
        IReadOnlyCollection<string> verified, DateTime now, bool changed, string? trigger)
    {
        if (adoptedAt is null && !changed && verified.Contains(Fingerprint(current)))
        {
            adoptedAt = now;
        }

        return new WebhookSecretPlan
        {
            Current = current,
            Previous = previous is null ? (ReadOnlyMemory<byte>?)null : new ReadOnlyMemory<byte>(previous),
            Changed = changed,
            Trigger = trigger,
            NextDeadline = previous is null ? null : validUntil,
            Status = new WebhookStatus
            {
                SecretVersion = version,
                RotatedAt = Seconds(rotatedAt),
                PreviousValidUntil = previous is null || validUntil is null ? null : Seconds(validUntil.Value),
                Adopted = adoptedAt is not null,
                AdoptedAt = adoptedAt is { } a ? Seconds(a) : null,
            },
        };
    }

    /// <summary>The annotations written on the effective Secret with the plan's values.</summary>
    public static IDictionary<string, string> Annotations(WebhookSecretPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var annotations = new Dictionary<string, string>
        {
            [VersionAnnotation] = (plan.Status.SecretVersion ?? 1).ToString(CultureInfo.InvariantCulture),
            [RotatedAtAnnotation] = Format(plan.Status.RotatedAt!.Value),
        };
        if (plan.Status.RotateRequest is { } handled)
        {
            annotations[RotateHandledAnnotation] = handled;
        }

        if (plan.Status.NextRotationAt is null && plan.Previous is not null && plan.Status.PreviousValidUntil is { } until)
        {
            annotations[PreviousValidUntilAnnotation] = Format(until);
        }

        return annotations;
    }

    internal static string Format(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static DateTime? ParseTime(string? value) =>
        value is not null && DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed)
            ? DateTime.SpecifyKind(parsed, DateTimeKind.Utc)
            : null;

    private static DateTime Seconds(DateTime time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
