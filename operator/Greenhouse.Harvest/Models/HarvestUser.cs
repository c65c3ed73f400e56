namespace Greenhouse.Harvest;

/// <summary>A Greenhouse user (<c>/v3/users</c>).</summary>
public sealed record HarvestUser
{
    private readonly IReadOnlyList<string> emails = [];

    public long Id { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Name { get; init; }
    public string? PrimaryEmail { get; init; }
    public IReadOnlyList<string> Emails { get => emails; init => emails = value ?? []; }
    public string? JobTitle { get; init; }
    public bool? Deactivated { get; init; }
    public bool? SiteAdmin { get; init; }
    public string? EmployeeId { get; init; }
}
