namespace Sandbox.Greenhouse;

/// <summary>How <c>X-RateLimit-Reset</c> is written: Unix time of the window end, or seconds until it.</summary>
public enum RateLimitResetFormat
{
    EpochSeconds,
    SecondsUntilReset,
}
