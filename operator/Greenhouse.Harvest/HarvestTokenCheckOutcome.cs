namespace Greenhouse.Harvest;

/// <summary>How a one-off token request with candidate credentials ended.</summary>
public enum HarvestTokenCheckOutcome
{
    /// <summary>A token was issued: the credentials work.</summary>
    Accepted,

    /// <summary>The token endpoint refused the credentials (400/401/403).</summary>
    Rejected,

    /// <summary>The token endpoint could not be reached or answered something else; nothing is known about the credentials.</summary>
    Unreachable,
}
