namespace Greenhouse.Harvest;

/// <summary>OAuth scopes the operations of <see cref="HarvestClient"/> need (names from Greenhouse's v3 scope list).</summary>
public static class HarvestScopes
{
    public const string CandidatesList = "harvest:candidates:list";
    public const string NotesList = "harvest:notes:list";
    public const string NotesCreate = "harvest:notes:create";
    public const string CandidateTagsList = "harvest:candidate_tags:list";
    public const string CandidateTagsCreate = "harvest:candidate_tags:create";
    public const string AppliedCandidateTagsList = "harvest:applied_candidate_tags:list";
    public const string AppliedCandidateTagsCreate = "harvest:applied_candidate_tags:create";
    public const string AppliedCandidateTagsDestroy = "harvest:applied_candidate_tags:destroy";
    public const string UsersList = "harvest:users:list";
    public const string SourcesList = "harvest:sources:list";
    public const string ApplicationsList = "harvest:applications:list";
    public const string ApplicationsCreate = "harvest:applications:create";
    public const string WebhooksList = "harvest:webhooks:list";
    public const string WebhooksCreate = "harvest:webhooks:create";
    public const string WebhooksUpdate = "harvest:webhooks:update";
    public const string WebhooksDestroy = "harvest:webhooks:destroy";
}
