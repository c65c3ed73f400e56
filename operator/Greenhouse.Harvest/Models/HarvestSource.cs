namespace Greenhouse.Harvest;

/// <summary>A candidate source (<c>/v3/sources</c>); <see cref="Type"/> is the sourcing strategy.</summary>
public sealed record HarvestSource
{
    public long Id { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? Name { get; init; }
    public HarvestSourceType? Type { get; init; }
}
