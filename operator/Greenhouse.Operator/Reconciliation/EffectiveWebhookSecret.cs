using System.Globalization;
using Greenhouse.Contracts;
using k8s.Models;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>The operator-owned webhook Secret as last written: its values and the rotation annotations written with them.</summary>
public sealed record EffectiveWebhookSecret(byte[]? Current, byte[]? Previous, long? Version, DateTime? RotatedAt, string? RotateHandled, DateTime? PreviousValidUntil)
{
    public static EffectiveWebhookSecret? From(V1Secret? secret)
    {
        if (secret is null)
        {
            return null;
        }

        byte[]? current = null;
        byte[]? previous = null;
        secret.Data?.TryGetValue(SecretFileNames.WebhookSecret, out current);
        secret.Data?.TryGetValue(SecretFileNames.PreviousWebhookSecret, out previous);
        var annotations = secret.Metadata?.Annotations;
        string? Annotation(string key) => annotations is not null && annotations.TryGetValue(key, out var v) ? v : null;
        return new EffectiveWebhookSecret(
            current is { Length: > 0 } ? current : null,
            previous is { Length: > 0 } ? previous : null,
            long.TryParse(Annotation(WebhookSecretRotation.VersionAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : null,
            WebhookSecretRotation.ParseTime(Annotation(WebhookSecretRotation.RotatedAtAnnotation)),
            Annotation(WebhookSecretRotation.RotateHandledAnnotation),
            WebhookSecretRotation.ParseTime(Annotation(WebhookSecretRotation.PreviousValidUntilAnnotation)));
    }
}
