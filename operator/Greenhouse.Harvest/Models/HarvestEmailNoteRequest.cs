namespace Greenhouse.Harvest;

/// <summary>Records an e-mail on a candidate's activity feed (it sends no mail).</summary>
public sealed record HarvestEmailNoteRequest(long CandidateId, string Subject, string Body, string From, string To, IReadOnlyList<string>? Cc = null);
