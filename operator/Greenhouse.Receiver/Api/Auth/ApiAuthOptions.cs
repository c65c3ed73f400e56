namespace Greenhouse.Receiver.Api.Auth;

/// <summary>The <c>Api:Auth:*</c> and <c>Api:Clients</c> settings.</summary>
public sealed record ApiAuthOptions
{
    public required ApiAuthMode Mode { get; init; }

    /// <summary>The audience a token must carry (<c>kubectl create token SA --audience ...</c>), specific to this receiver.</summary>
    public required string Audience { get; init; }

    /// <summary>The Kubernetes API server serving <c>/.well-known/openid-configuration</c> and <c>/openid/v1/jwks</c>.</summary>
    public required Uri ApiServer { get; init; }

    /// <summary>CA bundle for the API server's certificate (in a pod: the ServiceAccount's ca.crt); null uses the system trust.</summary>
    public string? CaFile { get; init; }

    /// <summary>A token file presented to the API server when fetching the keys (in a pod: the receiver's own projected token); null sends none.</summary>
    public string? TokenFile { get; init; }

    /// <summary>Tokens valid for longer than this (exp - iat) are refused: offline checks cannot see a revoked token, so lifetimes stay short.</summary>
    public required TimeSpan MaxTokenLifetime { get; init; }

    /// <summary>ServiceAccounts allowed to call, with their scopes; empty means nobody.</summary>
    public required IReadOnlyList<ApiClient> Clients { get; init; }
}
