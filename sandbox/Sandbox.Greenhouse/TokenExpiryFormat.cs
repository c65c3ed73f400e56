namespace Sandbox.Greenhouse;

/// <summary>The expiry field of token responses: <c>expires_at</c> (ISO 8601) or <c>expires_in</c> (seconds).</summary>
public enum TokenExpiryFormat
{
    ExpiresAt,
    ExpiresIn,
}
