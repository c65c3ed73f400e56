using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record WebhookSpec
{
    [Required]
    [Format("uri")]
    [Pattern("^https://")]
    [Description("Public https URL Greenhouse posts to; paste it into Greenhouse (Configure > Dev Center > Web Hooks). Its path is the path the receiver serves, its host the Ingress host.")]
    public string Endpoint { get; init; } = "";

    [Description("Secret holding the webhook secret key typed into Greenhouse. When absent the operator generates one, owns it and rotates it.")]
    public SecretKeyReference? SecretRef { get; init; }

    [Description("Webhook actions to accept (Greenhouse's \"When\" setting). Other actions are acknowledged and ignored. Default: all.")]
    [AllowedValues(
        "new_candidate_application", "delete_application", "application_updated", "offer_created", "offer_approved",
        "offer_updated", "offer_deleted", "new_prospect_application", "delete_candidate", "hire_candidate",
        "merge_candidate", "candidate_stage_change", "unhire_candidate", "reject_candidate", "unreject_candidate",
        "update_candidate", "candidate_anonymized", "interview_deleted", "scorecard_deleted", "job_created",
        "job_deleted", "job_updated", "job_approved", "job_post_created", "job_post_updated", "job_post_deleted",
        "job_interview_stage_deleted", "department_deleted", "office_deleted")]
    public IList<string>? Events { get; init; }

    [DefaultEmptyObject]
    [Description("Rotation of operator-generated webhook secrets.")]
    public RotationSpec? Rotation { get; init; }

    [AllowedValues("Manual", "HarvestApi")]
    [Default("Manual")]
    [Description("Who configures the webhooks in Greenhouse. Manual: a Greenhouse admin pastes the endpoint and secret key (status.webhook and the WebhookSecretReady message say what). HarvestApi: the operator registers one webhook per event type through Harvest v3's partner webhook endpoints with the spec.harvest credentials (scopes harvest:webhooks:create, update, destroy and list), keeps URL, secret key and Basic auth in step (a rotated secret is PATCHed, so adoption is immediate) and deletes them when the integration is deleted or switched back to Manual.")]
    public string? Registration { get; init; }

    [Description("Secret of type kubernetes.io/basic-auth (keys username, password) matching the Basic auth set in the webhook's advanced settings in Greenhouse.")]
    public SecretReference? BasicAuthSecretRef { get; init; }

    [Description("Expose the webhook port through an Ingress for the endpoint's host and path. Leave out when something else routes traffic to the Service.")]
    public IngressSpec? Ingress { get; init; }
}
