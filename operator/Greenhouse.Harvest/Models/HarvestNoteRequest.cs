namespace Greenhouse.Harvest;

/// <summary>A plain note to add to a candidate. <see cref="Visibility"/> is <c>admin_only_visible</c>, <c>privately_visible</c> or <c>publicly_visible</c>.</summary>
public sealed record HarvestNoteRequest(long CandidateId, string Body, string Visibility = "admin_only_visible", long? ApplicationId = null);
