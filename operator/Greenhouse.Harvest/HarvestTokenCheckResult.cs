namespace Greenhouse.Harvest;

/// <summary>Result of <see cref="HarvestTokenCheck.CheckAsync"/>; <see cref="Message"/> never contains the secret.</summary>
public sealed record HarvestTokenCheckResult(HarvestTokenCheckOutcome Outcome, string Message, DateTimeOffset? TokenExpiresAt = null);
