namespace Greenhouse.Contracts;

/// <summary>
/// Keys of the effective Secrets the operator writes and the receiver reads as files
/// (a mounted Secret turns each key into a file of the same name).
/// </summary>
public static class SecretFileNames
{
    /// <summary>Current webhook secret key (HMAC-SHA256 key of the Signature header).</summary>
    public const string WebhookSecret = "secret_key";

    /// <summary>Previous webhook secret key, still accepted during a rotation's overlap window.</summary>
    public const string PreviousWebhookSecret = "previous_secret_key";

    /// <summary>Harvest v3 OAuth client id.</summary>
    public const string ClientId = "client_id";

    /// <summary>Harvest v3 OAuth client secret.</summary>
    public const string ClientSecret = "client_secret";

    /// <summary>Previous Harvest client secret, tried when the current one is rejected.</summary>
    public const string PreviousClientSecret = "previous_client_secret";

    /// <summary>Basic-auth user name (the key of a kubernetes.io/basic-auth Secret).</summary>
    public const string BasicAuthUsername = "username";

    /// <summary>Basic-auth password (the key of a kubernetes.io/basic-auth Secret).</summary>
    public const string BasicAuthPassword = "password";
}
