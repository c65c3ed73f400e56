namespace Greenhouse.Harvest;

/// <summary>A note on a candidate's activity feed (<c>/v3/notes</c>); e-mail notes have <see cref="Type"/> <c>EMAIL</c>.</summary>
public sealed record HarvestNote
{
    private readonly IReadOnlyList<string> emailCc = [];

    public long Id { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public long? CandidateId { get; init; }
    public long? ApplicationId { get; init; }

    /// <summary>Author; for notes this client writes, the sync user (<c>sub</c>).</summary>
    public long? UserId { get; init; }
    public string? Body { get; init; }
    public string? Subject { get; init; }
    public string? Type { get; init; }
    public string? Visibility { get; init; }
    public string? EmailFrom { get; init; }
    public string? EmailTo { get; init; }
    public IReadOnlyList<string> EmailCc { get => emailCc; init => emailCc = value ?? []; }
}
