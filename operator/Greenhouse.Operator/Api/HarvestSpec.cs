using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record HarvestSpec
{
    [Required]
    [Description("Secret in the integration's namespace with the Harvest v3 OAuth client credentials, keys client_id and client_secret.")]
    public SecretReference CredentialsSecretRef { get; init; } = new();

    [Required]
    [Minimum(1)]
    [Description("Id of the Greenhouse user the access token acts as (the token's sub), usually the \"Default Sync User\"; write-backs are attributed to this user.")]
    public long SyncUserId { get; init; }

    [Format("uri")]
    [Pattern("^(https://|http://(localhost|127\\.[0-9]+\\.[0-9]+\\.[0-9]+|\\[::1\\])(:[0-9]+)?(/|$))")]
    [Default("https://harvest.greenhouse.io/v3")]
    [Description("Harvest v3 API base URL; https (plain http only for loopback addresses).")]
    public string? BaseUrl { get; init; }

    [Format("uri")]
    [Pattern("^(https://|http://(localhost|127\\.[0-9]+\\.[0-9]+\\.[0-9]+|\\[::1\\])(:[0-9]+)?(/|$))")]
    [Default("https://auth.greenhouse.io/token")]
    [Description("OAuth 2.0 token endpoint for the client-credentials grant; https (plain http only for loopback addresses).")]
    public string? TokenUrl { get; init; }
}
