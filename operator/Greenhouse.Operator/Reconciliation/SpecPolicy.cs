using System.Net;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// What a namespace user may ask of the operator through a GreenhouseIntegration, beyond the CRD
/// schema: the operator acts with its own (wider) permissions and must not be a way around the
/// cluster admin's choices. Pure: the first problem found, or null.
/// </summary>
public static class SpecPolicy
{
    /// <summary>User-supplied webhook secrets shorter than this are refused (the generated ones are 64 hex characters).</summary>
    public const int MinimumWebhookSecretBytes = 32;

    public static InputProblem? Check(GreenhouseIntegrationSpec spec, OperatorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(settings);
        if (spec.Webhook.Ingress?.Annotations is { Count: > 0 } annotations)
        {
            var refused = annotations.Keys.Where(key => !settings.IngressAnnotationAllowList.Any(allowed => Matches(allowed, key))).Order(StringComparer.Ordinal).ToList();
            if (refused.Count > 0)
            {
                return new InputProblem(ConditionReasons.IngressAnnotationNotAllowed,
                    $"spec.webhook.ingress.annotations {string.Join(", ", refused)} {(refused.Count == 1 ? "is" : "are")} not allowed by the operator (allowed: {(settings.IngressAnnotationAllowList.Count == 0 ? "none" : string.Join(", ", settings.IngressAnnotationAllowList))}); remove {(refused.Count == 1 ? "it" : "them")} or ask the cluster admin to extend ingressAnnotationAllowList.");
            }
        }

        if (spec.Harvest is { } harvest)
        {
            foreach (var (field, url) in new[] { ("spec.harvest.baseUrl", harvest.BaseUrl), ("spec.harvest.tokenUrl", harvest.TokenUrl) })
            {
                if (url is not null && !IsSecureUrl(url))
                {
                    return new InputProblem(ConditionReasons.InsecureUrl,
                        $"{field} \"{url}\" must be an https URL (plain http only for loopback addresses): the Harvest credentials and tokens would cross the network in clear.");
                }
            }
        }

        if (WebhookRegistrationMode.IsHarvestApi(spec) && spec.Harvest is null)
        {
            return new InputProblem(ConditionReasons.InvalidSpec,
                "spec.webhook.registration is HarvestApi but spec.harvest is not set: registering webhooks in Greenhouse uses the Harvest credentials (with the harvest:webhooks:* scopes); set spec.harvest or use registration Manual.");
        }

        if (spec.Receiver?.Image is { Length: > 0 } image && !ImageAllowed(image, settings))
        {
            var allowed = settings.AllowedImagePrefixes.Count > 0 ? string.Join(", ", settings.AllowedImagePrefixes) : Repository(settings.ReceiverImage);
            return new InputProblem(ConditionReasons.ImageNotAllowed,
                $"spec.receiver.image \"{image}\" is not from an allowed registry ({allowed}); use one of those or remove the field to run the operator's default image.");
        }

        return null;
    }

    /// <summary>A problem when a user-supplied webhook secret is too short to resist guessing.</summary>
    public static InputProblem? CheckWebhookSecret(string secretName, string key, int bytes) =>
        bytes >= MinimumWebhookSecretBytes
            ? null
            : new InputProblem(ConditionReasons.WebhookSecretTooShort,
                $"Secret \"{secretName}\" key \"{key}\" holds {bytes} bytes; use at least {MinimumWebhookSecretBytes} random bytes (e.g. openssl rand -hex 32) and type the same value into Greenhouse.");

    /// <summary>https, or http to a loopback host (a local simulator).</summary>
    public static bool IsSecureUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }
        return uri.Scheme == Uri.UriSchemeHttps
            || (uri.Scheme == Uri.UriSchemeHttp && (uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address))));
    }

    public static bool ImageAllowed(string image, OperatorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(settings);
        IEnumerable<string> prefixes = settings.AllowedImagePrefixes.Count > 0 ? settings.AllowedImagePrefixes : [Repository(settings.ReceiverImage)];
        return prefixes.Any(prefix => prefix.Length > 0 && image.StartsWith(prefix, StringComparison.Ordinal)
            // "registry.example/team" must not allow "registry.example/team-evil/...".
            && (image.Length == prefix.Length || prefix[^1] is '/' or ':' || image[prefix.Length] is '/' or ':' or '@'));
    }

    private static bool Matches(string allowed, string key) =>
        allowed.EndsWith('*') ? key.StartsWith(allowed[..^1], StringComparison.Ordinal) : key == allowed;

    /// <summary>The image without its tag or digest: <c>ghcr.io/x/receiver:1.0</c> → <c>ghcr.io/x/receiver</c>.</summary>
    private static string Repository(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        var withoutDigest = at >= 0 ? image[..at] : image;
        var colon = withoutDigest.LastIndexOf(':');
        return colon > withoutDigest.LastIndexOf('/') ? withoutDigest[..colon] : withoutDigest;
    }
}
