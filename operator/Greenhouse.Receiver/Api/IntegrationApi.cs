using Greenhouse.Harvest;
using Greenhouse.Receiver.Configuration;
using Grpc.Core;
using V1 = Greenhouse.Contracts.Receiver.V1;

namespace Greenhouse.Receiver.Api;

/// <summary>greenhouse.receiver.v1.Integration: the account settings a client acts with (sync user, maildrop, SSO domain, scopes).</summary>
public sealed class IntegrationApi : V1.Integration.IntegrationBase
{
    /// <summary>The scopes the receiver's Harvest calls use (hydration, sweeps, write-back; see docs/receiver.md).</summary>
    internal static readonly string[] NeededScopes =
    [
        HarvestScopes.CandidatesList, HarvestScopes.NotesList, HarvestScopes.NotesCreate,
        HarvestScopes.CandidateTagsList, HarvestScopes.CandidateTagsCreate,
        HarvestScopes.AppliedCandidateTagsList, HarvestScopes.AppliedCandidateTagsCreate, HarvestScopes.AppliedCandidateTagsDestroy,
        HarvestScopes.ApplicationsList, HarvestScopes.ApplicationsCreate,
    ];

    private readonly ReceiverOptions _options;
    private readonly HarvestStatus? _harvest;

    public IntegrationApi(ReceiverOptions options, IServiceProvider services)
    {
        _options = options;
        _harvest = (HarvestStatus?)services?.GetService(typeof(HarvestStatus));
    }

    public override Task<V1.IntegrationInfo> Get(V1.GetIntegrationRequest request, ServerCallContext context)
    {
        var info = new V1.IntegrationInfo
        {
            MaildropEmail = _options.MaildropEmail ?? string.Empty,
            SsoDomain = _options.SsoDomain ?? string.Empty,
            ProfileUrlTemplate = _options.SsoDomain is { } domain ? $"https://{domain}/people/{{id}}" : string.Empty,
            HarvestEnabled = _options.Harvest is not null,
        };
        if (_options.Harvest is { } harvest)
        {
            info.SyncUserId = harvest.SyncUserId;
            var missing = _harvest?.Current.MissingScopes ?? [];
            info.HarvestScopesMissing.Add(missing);
            info.HarvestScopesHeld.Add(NeededScopes.Except(missing, StringComparer.Ordinal));
        }
        return Task.FromResult(info);
    }
}
