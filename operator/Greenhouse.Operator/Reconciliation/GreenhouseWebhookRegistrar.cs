using System.Collections.Concurrent;
using ControllerRuntime;
using Greenhouse.Harvest;
using Greenhouse.Operator.Api;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Keeps an integration's webhooks in Greenhouse in step through Harvest v3's partner webhook endpoints
/// (<see cref="HarvestWebhookClient"/>): lists them, applies <see cref="WebhookRegistrationPlanner.Plan"/>
/// (POST missing, PATCH changed, DELETE extra) and reports what Greenhouse confirmed, or its refusal with
/// the reason (a missing scope by name). When status already records the desired config, Greenhouse is
/// listed again only every <see cref="CheckInterval"/> (drift made in the UI is repaired then).
/// </summary>
public sealed class GreenhouseWebhookRegistrar(HarvestWebhookClient client, TimeProvider timeProvider, TimeSpan retry)
{
    /// <summary>How often registrations already in step are listed again to find changes made in Greenhouse.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMinutes(15);

    private readonly ConcurrentDictionary<ObjectKey, DateTime> _checkedAt = new();

    /// <summary>Calls made to Harvest (tests).</summary>
    public int Calls => _calls;

    private int _calls;

    public async Task<RegistrationOutcome> SyncAsync(ObjectKey key, HarvestConnection connection, DesiredRegistration desired, WebhookStatus? observed, string credentialsSecret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(desired);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var recorded = observed?.Registrations?.Select(r => r.EventType).Order(StringComparer.Ordinal).ToList() ?? [];
        if (observed?.RegisteredConfig == desired.Config && observed.RegisteredSecretVersion == desired.SecretVersion
            && recorded.SequenceEqual(desired.Events.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            && _checkedAt.TryGetValue(key, out var last) && now < last + CheckInterval)
        {
            return RegistrationOutcome.Unchanged(observed) with { RetryAt = last + CheckInterval };
        }

        var operation = "list webhooks";
        var created = 0;
        var updated = 0;
        var deleted = 0;
        try
        {
            Interlocked.Increment(ref _calls);
            var listed = await client.ListAsync(connection, cancellationToken).ConfigureAwait(false);
            var registrations = new List<WebhookRegistrationStatus>();
            foreach (var action in WebhookRegistrationPlanner.Plan(desired, listed, observed?.RegisteredConfig))
            {
                Interlocked.Increment(ref _calls);
                switch (action.Kind)
                {
                    case RegistrationActionKind.Keep:
                        Interlocked.Decrement(ref _calls);
                        registrations.Add(new WebhookRegistrationStatus { EventType = action.EventType, Id = action.Id!.Value });
                        break;
                    case RegistrationActionKind.Create:
                        operation = $"create the {action.EventType} webhook";
                        var made = await client.CreateAsync(connection, Request(desired, action.EventType), cancellationToken).ConfigureAwait(false);
                        registrations.Add(new WebhookRegistrationStatus { EventType = action.EventType, Id = made.Id });
                        created++;
                        break;
                    case RegistrationActionKind.Update:
                        operation = $"update webhook {action.Id} ({action.EventType})";
                        await client.UpdateAsync(connection, action.Id!.Value, Request(desired, action.EventType), cancellationToken).ConfigureAwait(false);
                        registrations.Add(new WebhookRegistrationStatus { EventType = action.EventType, Id = action.Id!.Value });
                        updated++;
                        break;
                    case RegistrationActionKind.Delete:
                        operation = $"delete webhook {action.Id} ({action.EventType})";
                        await client.DeleteAsync(connection, action.Id!.Value, cancellationToken).ConfigureAwait(false);
                        deleted++;
                        break;
                }
            }

            _checkedAt[key] = now;
            var confirmed = created + updated + deleted > 0 || observed?.RegisteredAt is null ? now : observed.RegisteredAt;
            return new RegistrationOutcome
            {
                Registrations = [.. registrations.OrderBy(r => r.EventType, StringComparer.Ordinal)],
                RegisteredConfig = desired.Config,
                RegisteredSecretVersion = desired.SecretVersion,
                RegisteredAt = Seconds(confirmed!.Value),
                Changes = (created, updated, deleted),
                RetryAt = now + CheckInterval,
            };
        }
        catch (HarvestException e)
        {
            _checkedAt.TryRemove(key, out _);
            // Webhooks made before the failure carry the owner marker: the next sync finds them.
            return RegistrationOutcome.Unchanged(observed) with
            {
                Problem = Problem(e, operation, credentialsSecret),
                Changes = (created, updated, deleted),
                RetryAt = now + (e is HarvestRateLimitedException { RetryAfter: { } wait } && wait > retry ? wait : retry),
            };
        }
    }

    /// <summary>Deletes every webhook of the integration (listed by owner marker, plus <paramref name="knownIds"/> when listing is refused).</summary>
    public async Task<(int Deleted, InputProblem? Problem)> DeleteAllAsync(ObjectKey key, HarvestConnection connection, string owner, IEnumerable<long> knownIds, string credentialsSecret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(knownIds);
        _checkedAt.TryRemove(key, out _);
        var operation = "list webhooks";
        var deleted = 0;
        try
        {
            IEnumerable<long> ids;
            try
            {
                Interlocked.Increment(ref _calls);
                ids = WebhookRegistrationPlanner.Ours(await client.ListAsync(connection, cancellationToken).ConfigureAwait(false), owner).Select(w => w.Id);
            }
            catch (HarvestForbiddenException)
            {
                ids = knownIds;
            }

            foreach (var id in ids.Distinct().ToList())
            {
                operation = $"delete webhook {id}";
                Interlocked.Increment(ref _calls);
                if (await client.DeleteAsync(connection, id, cancellationToken).ConfigureAwait(false))
                {
                    deleted++;
                }
            }

            return (deleted, null);
        }
        catch (HarvestException e)
        {
            return (deleted, Problem(e, operation, credentialsSecret));
        }
    }

    public void Forget(ObjectKey key) => _checkedAt.TryRemove(key, out _);

    private static HarvestWebhookRequest Request(DesiredRegistration desired, string eventType) => new()
    {
        Name = desired.Name(eventType),
        EndpointUrl = desired.EndpointUrl,
        EventActionType = eventType,
        SecretKey = desired.SecretKey,
        BasicAuthUsername = desired.BasicAuthUsername,
        BasicAuthPassword = desired.BasicAuthPassword,
    };

    private static InputProblem Problem(HarvestException e, string operation, string secret) => e switch
    {
        HarvestForbiddenException { Scope: { } scope } => new InputProblem(ConditionReasons.MissingScope,
            $"Greenhouse refused to {operation}: the Harvest credential in Secret \"{secret}\" lacks the scope {scope}. Registering webhooks needs harvest:webhooks:list, create, update and destroy (partner credentials); add them in Greenhouse (Configure > Dev Center > API Credential Management), or set spec.webhook.registration to Manual and configure the webhooks in Greenhouse by hand.",
            ConditionTypes.WebhookSecretReady),
        HarvestUnauthorizedException or HarvestForbiddenException or HarvestValidationException => new InputProblem(ConditionReasons.RegistrationRefused,
            $"Greenhouse refused to {operation} ({e.Message}); check the Harvest credentials in Secret \"{secret}\" and spec.webhook.",
            ConditionTypes.WebhookSecretReady),
        _ => new InputProblem(ConditionReasons.RegistrationFailed,
            $"Could not {operation} in Greenhouse ({e.Message}); retrying.",
            ConditionTypes.WebhookSecretReady),
    };

    private static DateTime Seconds(DateTime time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
}
