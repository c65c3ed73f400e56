namespace Greenhouse.Receiver.Webhooks;

/// <summary>The webhook actions Greenhouse documents; anything else is counted under "unknown".</summary>
public static class WebhookActions
{
    public const string Ping = "ping";
    public const string Unknown = "unknown";

    public const string NewCandidateApplication = "new_candidate_application";
    public const string DeleteApplication = "delete_application";
    public const string NewProspectApplication = "new_prospect_application";
    public const string DeleteCandidate = "delete_candidate";
    public const string MergeCandidate = "merge_candidate";
    public const string UpdateCandidate = "update_candidate";
    public const string CandidateAnonymized = "candidate_anonymized";

    private static readonly HashSet<string> Documented = new(StringComparer.Ordinal)
    {
        NewCandidateApplication, DeleteApplication, "application_updated", "offer_created", "offer_approved",
        "offer_updated", "offer_deleted", NewProspectApplication, DeleteCandidate, "hire_candidate", MergeCandidate,
        "candidate_stage_change", "unhire_candidate", "reject_candidate", "unreject_candidate", UpdateCandidate,
        CandidateAnonymized, "interview_deleted", "scorecard_deleted", "job_created", "job_deleted", "job_updated",
        "job_approved", "job_post_created", "job_post_updated", "job_post_deleted", "job_interview_stage_deleted",
        "department_deleted", "office_deleted",
    };

    // The actions that are their own metric label: the documented ones and ping. Looked up by string
    // (Label) and by characters (Known: the envelope reader's UTF-8, decoded on the stack).
    private static readonly HashSet<string> Labelled = new(Documented.Append(Ping), StringComparer.Ordinal);
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> LabelledByChars = Labelled.GetAlternateLookup<ReadOnlySpan<char>>();

    public static IReadOnlyCollection<string> All => Documented;

    /// <summary>
    /// The documented action or ping spelled by the unescaped UTF-8 <paramref name="utf8"/>, as the one
    /// shared string (no string is made for it per delivery); null for anything else.
    /// </summary>
    public static string? Known(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[64];
        return utf8.Length <= chars.Length
            && System.Text.Unicode.Utf8.ToUtf16(utf8, chars, out _, out var written, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done
            && LabelledByChars.TryGetValue(chars[..written], out var known)
            ? known
            : null;
    }

    public static bool IsDocumented(string action) => Documented.Contains(action);

    /// <summary>A bounded metric label: the action itself when documented (or ping), otherwise "unknown".</summary>
    public static string Label(string? action) =>
        action is not null && Labelled.TryGetValue(action, out var known) ? known : Unknown;
}
