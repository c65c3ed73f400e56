namespace Greenhouse.Harvest;

/// <summary>The sourcing strategy of a <see cref="HarvestSource"/> (Agencies, Referral, Prospecting, ...).</summary>
public sealed record HarvestSourceType(long Id, string? Name);
