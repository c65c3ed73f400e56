using System.Net;

namespace Greenhouse.Harvest;

/// <summary>The credentials were rejected (token endpoint) or Harvest refused a fresh token (401).</summary>
public sealed class HarvestUnauthorizedException : HarvestException
{
    public HarvestUnauthorizedException()
    {
    }

    public HarvestUnauthorizedException(string message)
        : base(message, HttpStatusCode.Unauthorized)
    {
    }

    public HarvestUnauthorizedException(string message, Exception? innerException)
        : base(message, HttpStatusCode.Unauthorized, innerException)
    {
    }

    public HarvestUnauthorizedException(string message, string? oauthError)
        : base(message, HttpStatusCode.Unauthorized)
    {
        OAuthError = oauthError;
    }

    /// <summary>OAuth error code of the token endpoint (<c>invalid_client</c>, ...), when it sent one.</summary>
    public string? OAuthError { get; }
}
