using Greenhouse.Harvest;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Pure: what to do in Greenhouse so that exactly one webhook per wanted event type, owned by the integration,
/// posts to the desired URL with the desired secret and Basic auth. Webhooks of others (another owner in the
/// name, or none) are never touched. Values Greenhouse does not return (secret key, password) are compared
/// through the config hash last confirmed (<paramref name="registeredConfig"/>).
/// </summary>
public static class WebhookRegistrationPlanner
{
    public static IReadOnlyList<RegistrationAction> Plan(DesiredRegistration desired, IReadOnlyList<HarvestWebhook> listed, string? registeredConfig)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(listed);
        var ours = Ours(listed, desired.Owner).OrderBy(w => w.Id).ToList();
        var wanted = desired.Events.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var actions = new List<RegistrationAction>();
        var configChanged = registeredConfig != desired.Config;
        foreach (var eventType in wanted)
        {
            var matching = ours.Where(w => w.EventActionType == eventType).ToList();
            if (matching.Count == 0)
            {
                actions.Add(new RegistrationAction(RegistrationActionKind.Create, eventType));
                continue;
            }

            var keep = matching[0];
            var differs = configChanged
                || keep.EndpointUrl != desired.EndpointUrl.AbsoluteUri
                || keep.BasicAuthUsername != desired.BasicAuthUsername
                || keep.Deactivated == true
                || keep.Name != desired.Name(eventType);
            actions.Add(new RegistrationAction(differs ? RegistrationActionKind.Update : RegistrationActionKind.Keep, eventType, keep.Id));
            actions.AddRange(matching.Skip(1).Select(extra => new RegistrationAction(RegistrationActionKind.Delete, eventType, extra.Id)));
        }

        actions.AddRange(ours.Where(w => !wanted.Contains(w.EventActionType ?? "", StringComparer.Ordinal))
            .Select(w => new RegistrationAction(RegistrationActionKind.Delete, w.EventActionType ?? "", w.Id)));
        return actions;
    }

    /// <summary>The webhooks whose name carries the owner marker of <paramref name="owner"/>.</summary>
    public static IEnumerable<HarvestWebhook> Ours(IEnumerable<HarvestWebhook> listed, string owner) =>
        listed.Where(w => w.Name?.EndsWith(DesiredRegistration.OwnerMarker(owner), StringComparison.Ordinal) == true);
}
