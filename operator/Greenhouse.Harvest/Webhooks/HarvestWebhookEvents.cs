namespace Greenhouse.Harvest;

/// <summary>The 29 <c>event_action_type</c> values of Harvest v3's webhook endpoints.</summary>
public static class HarvestWebhookEvents
{
    public static IReadOnlyList<string> All { get; } =
    [
        "application_updated", "candidate_anonymized", "candidate_stage_change", "delete_application",
        "delete_candidate", "department_deleted", "hire_candidate", "interview_deleted", "job_approved",
        "job_created", "job_deleted", "job_interview_stage_deleted", "job_post_created", "job_post_deleted",
        "job_post_updated", "job_updated", "merge_candidate", "new_candidate_application",
        "new_prospect_application", "offer_approved", "offer_created", "offer_deleted", "offer_updated",
        "office_deleted", "reject_candidate", "scorecard_deleted", "unhire_candidate", "unreject_candidate",
        "update_candidate",
    ];
}
