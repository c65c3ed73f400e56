using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// The webhooks an integration wants in Greenhouse: one per event type, all posting to <see cref="EndpointUrl"/>
/// signed with <see cref="SecretKey"/> (version <see cref="SecretVersion"/>) and with the Basic auth credentials.
/// <see cref="Owner"/> (the integration's uid) marks the webhooks as this integration's in their name.
/// </summary>
public sealed record DesiredRegistration(
    Uri EndpointUrl,
    IReadOnlyList<string> Events,
    string SecretKey,
    long SecretVersion,
    string? BasicAuthUsername,
    string? BasicAuthPassword,
    string Owner,
    string DisplayName)
{
    /// <summary>
    /// Keyed hash (HMAC-SHA256 with the webhook secret) of URL, secret version and Basic auth: status can
    /// hold it to detect a change of values Greenhouse never returns, without revealing the password.
    /// </summary>
    public string Config
    {
        get
        {
            var data = Encoding.UTF8.GetBytes($"{EndpointUrl.AbsoluteUri}\n{SecretVersion.ToString(CultureInfo.InvariantCulture)}\n{BasicAuthUsername}\n{BasicAuthPassword}");
            return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SecretKey), data).AsSpan(0, 16));
        }
    }

    /// <summary>The webhook name in Greenhouse: readable, and ending with the owner marker.</summary>
    public string Name(string eventType) => $"{DisplayName} {eventType} {OwnerMarker(Owner)}";

    public static string OwnerMarker(string owner) => $"(greenhouse-operator {owner})";

    public override string ToString() => $"DesiredRegistration {{ EndpointUrl = {EndpointUrl}, Events = {Events.Count}, SecretVersion = {SecretVersion} }}";
}
