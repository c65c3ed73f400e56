using System.Globalization;
using ControllerRuntime;
using Greenhouse.Contracts;
using Greenhouse.Harvest;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Health;
using k8s.Models;
using ApiHarvestStatus = Greenhouse.Operator.Api.HarvestStatus;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Pure function (spec, observed objects, polled health, clock) -> status: all five conditions with
/// reasons from <see cref="ConditionReasons"/> and messages a person can act on, status.sync and
/// status.harvest from the polled health, status.webhook from the secret schedule.
/// Ready = ReceiverAvailable and WebhookSecretReady and (Harvest off or HarvestAuthenticated);
/// Synced is reported beside it.
/// </summary>
public static class StatusBuilder
{
    /// <summary>Oldest unprocessed event older than this: LagTooHigh.</summary>
    public static readonly TimeSpan LagThreshold = TimeSpan.FromMinutes(5);

    /// <summary>More unprocessed events than this: EventsBacklogged.</summary>
    public const long BacklogThreshold = 1000;

    private static readonly string[] Order =
        [ConditionTypes.Ready, ConditionTypes.ReceiverAvailable, ConditionTypes.WebhookSecretReady, ConditionTypes.HarvestAuthenticated, ConditionTypes.Synced];

    public static StatusResult Build(StatusInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var integration = inputs.Integration;
        var observed = integration.Status;
        var generation = integration.Metadata.Generation;
        var now = inputs.Now;
        var deadlines = new List<DateTime>();

        var available = ReceiverAvailable(integration, inputs.Deployment);
        var webhook = WebhookSecretReady(integration, inputs);
        var harvest = HarvestAuthenticated(integration, inputs);
        var synced = Synced(integration, inputs, deadlines);
        var ready = Ready(integration, inputs, available, webhook, harvest);

        var conditions = observed?.Conditions;
        foreach (var condition in new[] { ready, available, webhook, harvest, synced })
        {
            conditions = Conditions.Set(conditions, condition with { ObservedGeneration = generation }, now);
        }

        conditions = [.. conditions!.OrderBy(c => Array.IndexOf(Order, c.Type) is var i && i < 0 ? Order.Length : i)];
        var transitions = conditions
            .Where(c => Order.Contains(c.Type))
            .Where(c => Conditions.Find(observed?.Conditions, c.Type) is { } before
                ? before.Status != c.Status || before.Reason != c.Reason
                : c.Type == ConditionTypes.Ready && c.Reason != ConditionReasons.Creating) // a first status gets one event, from the summary; a new receiver being created is not news
            .ToList();

        // Becoming Ready is one event: conditions that turned True with it are told by its message.
        if (transitions.Any(t => t.Type == ConditionTypes.Ready && t.Status == Conditions.True))
        {
            transitions = [.. transitions.Where(t => t.Type == ConditionTypes.Ready || t.Status != Conditions.True)];
        }

        if (inputs.Webhook?.NextDeadline is { } webhookDeadline)
        {
            deadlines.Add(webhookDeadline);
        }

        if (inputs.HarvestValidation is { } validation)
        {
            deadlines.Add(validation.NextCheckAt);
        }

        if (inputs.Registration?.RetryAt is { } registrationRetry)
        {
            deadlines.Add(registrationRetry);
        }

        var status = new GreenhouseIntegrationStatus
        {
            ObservedGeneration = generation,
            Webhook = WebhookStatus(integration, inputs),
            Receiver = new ReceiverStatus
            {
                Replicas = inputs.Deployment?.Status?.Replicas ?? 0,
                ReadyReplicas = inputs.Deployment?.Status?.ReadyReplicas ?? 0,
                Image = inputs.Deployment?.Spec?.Template?.Spec?.Containers?.FirstOrDefault()?.Image,
            },
            Harvest = HarvestStatus(integration, inputs),
            Sync = inputs.Health?.Sync ?? observed?.Sync,
            Conditions = conditions,
        };
        var future = deadlines.Where(d => d > now).ToList();
        return new StatusResult(status, transitions, future.Count == 0 ? null : future.Min());
    }

    private static WebhookStatus WebhookStatus(GreenhouseIntegration integration, StatusInputs inputs)
    {
        var observed = integration.Status?.Webhook;
        var status = (inputs.Webhook?.Status ?? observed ?? new WebhookStatus()) with { Url = integration.Spec.Webhook.Endpoint };
        // Registrations are reported while they may exist: in HarvestApi mode, and in Manual mode until they are deleted.
        var registration = inputs.Registration
            ?? (WebhookRegistrationMode.IsHarvestApi(integration.Spec) || integration.Metadata.Finalizers?.Contains(WebhookRegistrationMode.Finalizer) == true
                ? RegistrationOutcome.Unchanged(observed)
                : null);
        return status with
        {
            Registrations = registration?.Registrations,
            RegisteredConfig = registration?.RegisteredConfig,
            RegisteredSecretVersion = registration?.RegisteredSecretVersion,
            RegisteredAt = registration?.RegisteredAt,
        };
    }

    private static ApiHarvestStatus? HarvestStatus(GreenhouseIntegration integration, StatusInputs inputs)
    {
        if (integration.Spec.Harvest is null)
        {
            return null;
        }

        var status = inputs.Health?.Harvest ?? integration.Status?.Harvest ?? new ApiHarvestStatus();
        if (inputs.HarvestValidation is { Outcome: not HarvestTokenCheckOutcome.Accepted } refused)
        {
            return status with { Authenticated = false, LastError = $"Secret \"{refused.SecretName}\": {refused.Message}" };
        }

        if (inputs.Health?.Harvest is null && inputs.HarvestValidation is { Outcome: HarvestTokenCheckOutcome.Accepted })
        {
            // A token issued now supersedes the error of an earlier refusal.
            return status with { Authenticated = true, LastError = null };
        }

        return status;
    }

    private static Condition Ready(GreenhouseIntegration integration, StatusInputs inputs, Condition available, Condition webhook, Condition harvest)
    {
        if (inputs.ApplyFailure is { } failure)
        {
            return False(ConditionTypes.Ready, ConditionReasons.ApplyFailed, failure);
        }

        if (inputs.Problem is { } problem)
        {
            return False(ConditionTypes.Ready, problem.Reason, problem.Message);
        }

        foreach (var condition in new[] { webhook, harvest, available })
        {
            if (condition.Status != Conditions.True)
            {
                return condition with { Type = ConditionTypes.Ready, Status = condition.Status == Conditions.Unknown ? Conditions.False : condition.Status };
            }
        }

        return new Condition
        {
            Type = ConditionTypes.Ready,
            Status = Conditions.True,
            Reason = ConditionReasons.Ready,
            Message = $"The receiver is available; Greenhouse can post to {integration.Spec.Webhook.Endpoint}",
        };
    }

    /// <summary>ReceiverAvailable from the Deployment.</summary>
    public static Condition ReceiverAvailable(GreenhouseIntegration integration, V1Deployment? deployment)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var name = ReceiverNames.Receiver(integration.Metadata.Name);
        var ns = integration.Metadata.NamespaceProperty;
        if (integration.Spec.Suspend)
        {
            return False(ConditionTypes.ReceiverAvailable, ConditionReasons.Suspended,
                "spec.suspend is true: the receiver is scaled to zero and Greenhouse deliveries fail (Greenhouse retries for about 15 hours); set spec.suspend to false to resume");
        }

        // The deployment controller has not looked at it yet.
        if (deployment?.Status?.ObservedGeneration is null)
        {
            return False(ConditionTypes.ReceiverAvailable, ConditionReasons.Creating, $"Waiting for Deployment \"{name}\" to report status");
        }

        var want = deployment.Spec?.Replicas ?? 1;
        var status = deployment.Status!;
        var current = status.ObservedGeneration >= deployment.Metadata.Generation;
        var availableCondition = status.Conditions?.FirstOrDefault(c => c.Type == "Available");
        if (current && availableCondition?.Status == "True" && (status.UpdatedReplicas ?? 0) >= want && (status.AvailableReplicas ?? 0) >= want)
        {
            return True(ConditionTypes.ReceiverAvailable, ConditionReasons.Available, $"{status.AvailableReplicas ?? 0} of {want} receiver pods available");
        }

        return False(ConditionTypes.ReceiverAvailable, ConditionReasons.Progressing,
            $"{status.ReadyReplicas ?? 0} of {want} receiver pods ready; see kubectl describe deployment {name} -n {ns}");
    }

    private static Condition WebhookSecretReady(GreenhouseIntegration integration, StatusInputs inputs)
    {
        const string type = ConditionTypes.WebhookSecretReady;
        if (inputs.Problem is { ConditionType: type } problem)
        {
            return False(type, problem.Reason, problem.Message);
        }

        if (inputs.Webhook is not { } plan)
        {
            return new Condition { Type = type, Status = Conditions.Unknown, Reason = inputs.Problem?.Reason ?? ConditionReasons.Creating, Message = "The webhook secret is not resolved yet: " + (inputs.Problem?.Message ?? "waiting") };
        }

        var ns = integration.Metadata.NamespaceProperty;
        var version = plan.Status.SecretVersion ?? 1;
        if (WebhookRegistrationMode.IsHarvestApi(integration.Spec))
        {
            return RegisteredWebhookSecret(integration, inputs, plan, version);
        }

        var readKey = integration.Spec.Webhook.SecretRef is { } secretRef
            ? $"kubectl get secret {secretRef.Name} -n {ns} -o jsonpath='{{.data.{secretRef.Key ?? SecretFileNames.WebhookSecret}}}' | base64 -d"
            : $"kubectl get secret {ReceiverNames.WebhookSecret(integration.Metadata.Name)} -n {ns} -o jsonpath='{{.data.{SecretFileNames.WebhookSecret}}}' | base64 -d";
        var paste = $"paste it as the Secret key of the web hook for {integration.Spec.Webhook.Endpoint} in Greenhouse (Configure > Dev Center > Web Hooks); read it with: {readKey}";
        if (plan.NotAdopted)
        {
            return False(type, ConditionReasons.RotationNotAdopted,
                $"Webhook secret version {version} (rotated {Time(plan.Status.RotatedAt)}) has not verified a single delivery within the grace period; Greenhouse still signs with the previous key, which stays accepted. {Capitalize(paste)}");
        }

        if (plan.Previous is not null && plan.Status.Adopted != true)
        {
            return True(type, ConditionReasons.AwaitingAdoption,
                $"Webhook secret version {version} is in effect since {Time(plan.Status.RotatedAt)}; the previous key stays accepted until a delivery signed with the new one arrives. Unless Greenhouse is updated automatically, {paste}");
        }

        return True(type, ConditionReasons.SecretReady,
            plan.Status.Adopted == true
                ? $"Webhook secret version {version} is in effect and Greenhouse signs with it"
                : $"Webhook secret version {version} is in effect; no delivery verified with it yet. If Greenhouse is not set up yet, {paste}");
    }

    /// <summary>WebhookSecretReady with registration HarvestApi: the secret is in effect once Greenhouse confirmed it.</summary>
    private static Condition RegisteredWebhookSecret(GreenhouseIntegration integration, StatusInputs inputs, WebhookSecretPlan plan, long version)
    {
        const string type = ConditionTypes.WebhookSecretReady;
        var registration = inputs.Registration ?? RegistrationOutcome.Unchanged(integration.Status?.Webhook);
        if (registration.Problem is { } refused)
        {
            return False(type, refused.Reason, refused.Message);
        }

        var events = integration.Spec.Webhook.Events is { Count: > 0 } wanted ? wanted.Distinct(StringComparer.Ordinal).Count() : Greenhouse.Harvest.HarvestWebhookEvents.All.Count;
        if (registration.RegisteredSecretVersion is not { } registered || registration.Registrations is not { Count: > 0 })
        {
            return False(type, ConditionReasons.RegistrationPending, registration.AwaitingReceivers
                ? $"Webhook secret version {version} is in effect; the operator registers {events} webhooks for {integration.Spec.Webhook.Endpoint} in Greenhouse once every ready receiver pod has loaded it (waiting for the receivers' SyncHealth)"
                : $"Webhook secret version {version} is in effect; the operator is registering {events} webhooks for {integration.Spec.Webhook.Endpoint} in Greenhouse");
        }

        if (registered != version)
        {
            return True(type, ConditionReasons.AwaitingAdoption,
                $"Webhook secret version {version} is in effect; Greenhouse still signs with version {registered} (accepted too) until the operator updates its {registration.Registrations.Count} webhooks, once every ready receiver pod has loaded the new secret");
        }

        if (plan.NotAdopted)
        {
            return False(type, ConditionReasons.RotationNotAdopted,
                $"Webhook secret version {version} was registered in Greenhouse but not adopted within the grace period; the previous key stays accepted");
        }

        return True(type, ConditionReasons.Registered,
            $"{registration.Registrations.Count} webhooks for {integration.Spec.Webhook.Endpoint} are registered in Greenhouse with webhook secret version {version} (confirmed {Time(registration.RegisteredAt)}; ids in status.webhook.registrations)");
    }

    private static Condition HarvestAuthenticated(GreenhouseIntegration integration, StatusInputs inputs)
    {
        const string type = ConditionTypes.HarvestAuthenticated;
        if (integration.Spec.Harvest is not { } spec)
        {
            return True(type, ConditionReasons.Disabled, "spec.harvest is not set: the receiver keeps its mirror from webhooks only");
        }

        if (inputs.Problem is { ConditionType: type } problem)
        {
            return False(type, problem.Reason, problem.Message);
        }

        var secret = spec.CredentialsSecretRef.Name;
        var keeping = inputs.HarvestHeldBack ? " They were not rolled out: the receivers keep the last working credentials." : "";
        if (inputs.HarvestValidation is { Outcome: HarvestTokenCheckOutcome.Rejected } rejected)
        {
            return False(type, ConditionReasons.CredentialsRejected,
                $"The Harvest credentials in Secret \"{secret}\" were refused ({rejected.Message}).{keeping} Fix client_id and client_secret in the Secret (Greenhouse: Configure > Dev Center > API Credential Management).");
        }

        if (inputs.HarvestValidation is { Outcome: HarvestTokenCheckOutcome.Unreachable } unreachable)
        {
            return False(type, ConditionReasons.Unreachable,
                $"The Harvest credentials in Secret \"{secret}\" could not be checked: {unreachable.Message}.{keeping} Check spec.harvest.tokenUrl and the network path to it; retried at {Time(unreachable.NextCheckAt)}.");
        }

        var health = inputs.Health;
        if (health?.HarvestUnauthorized == true)
        {
            return False(type, ConditionReasons.CredentialsRejected,
                $"The receivers' token requests are refused ({health.Harvest?.LastError ?? "no detail"}); fix client_id and client_secret in Secret \"{secret}\".");
        }

        if (health?.Harvest?.MissingScopes is { Count: > 0 } missing)
        {
            return False(type, ConditionReasons.MissingScope,
                $"The Harvest credentials in Secret \"{secret}\" lack the scope(s) {string.Join(", ", missing)}; add them to the API credential in Greenhouse (Configure > Dev Center > API Credential Management).");
        }

        if (health?.Harvest?.Authenticated == true)
        {
            return True(type, ConditionReasons.Authenticated, $"The receivers hold a Harvest token (expires {Time(health.Harvest.TokenExpiresAt)})");
        }

        if (inputs.HarvestValidation is { Outcome: HarvestTokenCheckOutcome.Accepted } accepted)
        {
            return True(type, ConditionReasons.Authenticated, $"The credentials in Secret \"{secret}\" obtained a token at {Time(accepted.CheckedAt)}");
        }

        return new Condition { Type = type, Status = Conditions.Unknown, Reason = ConditionReasons.AwaitingToken, Message = "Waiting for the receivers to obtain a Harvest token" };
    }

    private static Condition Synced(GreenhouseIntegration integration, StatusInputs inputs, List<DateTime> deadlines)
    {
        const string type = ConditionTypes.Synced;
        var health = inputs.Health;
        if (integration.Spec.Suspend)
        {
            return False(type, ConditionReasons.Suspended, "spec.suspend is true: nothing is synced until it is resumed");
        }

        if (health is null)
        {
            return new Condition { Type = type, Status = Conditions.Unknown, Reason = ConditionReasons.AwaitingHealth, Message = "No ready receiver pod has reported its sync health yet" };
        }

        var ns = integration.Metadata.NamespaceProperty;
        if (health.Unreachable.Count > 0)
        {
            return new Condition
            {
                Type = type,
                Status = health.Sync is null ? Conditions.Unknown : Conditions.False,
                Reason = ConditionReasons.ReceiverUnreachable,
                Message = $"{health.Unreachable.Count} of {health.Pods} ready receiver pods did not answer SyncHealth on port {ReceiverPorts.Grpc} ({string.Join("; ", health.Unreachable)}); check the pods' logs and that the NetworkPolicy lets the operator's namespace in",
            };
        }

        var sync = health.Sync!;
        var spec = integration.Spec.Sync;
        var now = inputs.Now;
        if (integration.Spec.Harvest is not null)
        {
            var staleAfter = spec?.StaleAfter is { } s ? GoDuration.Parse(s) : TimeSpan.FromHours(1);
            var resync = spec?.ResyncInterval is { } r ? GoDuration.Parse(r) : TimeSpan.FromMinutes(15);
            // The exact time, not status' minute: a staleAfter of seconds (or a sweep just after a minute began) is measured right.
            var since = health.LastSweepSucceededAt ?? sync.LastResyncAt ?? integration.Metadata.CreationTimestamp ?? now;
            if (now >= since + staleAfter)
            {
                return False(type, ConditionReasons.Stale,
                    $"No Harvest sweep succeeded since {Time(sync.LastResyncAt)} (spec.sync.staleAfter {spec?.StaleAfter ?? "1h"}){Detail(health.LastSweepError ?? health.Harvest?.LastError)}{(health.Throttled ? "; Harvest has answered the receivers 429 Too Many Requests (rate limited), which they wait out" : "")}; see kubectl logs -n {ns} deploy/{ReceiverNames.Receiver(integration.Metadata.Name)}");
            }

            deadlines.Add(since + staleAfter);
            if (health.LastSweepError is { } sweepError && now >= since + (2 * resync))
            {
                return False(type, ConditionReasons.SweepFailing,
                    $"Harvest sweeps are failing ({sweepError}); the last one succeeded at {Time(sync.LastResyncAt)}. Synced turns Stale after spec.sync.staleAfter");
            }

            if (health.LastSweepError is not null)
            {
                deadlines.Add(since + (2 * resync));
            }
        }

        if ((sync.LagSeconds ?? 0) >= LagThreshold.TotalSeconds)
        {
            return False(type, ConditionReasons.LagTooHigh,
                $"The oldest unprocessed event waits for {sync.LagSeconds} s (more than {LagThreshold.TotalMinutes:0} min); {sync.PendingEvents} events pending. Check the receiver's logs and Harvest's rate limits");
        }

        if ((sync.PendingEvents ?? 0) > BacklogThreshold)
        {
            return False(type, ConditionReasons.EventsBacklogged,
                $"{sync.PendingEvents} accepted events wait to be processed (more than {BacklogThreshold}); they are kept and will be applied, check the receiver's logs if this persists");
        }

        if (health.DeadLetters > 0)
        {
            return False(type, ConditionReasons.DeadLetters,
                $"{health.DeadLetters} events could not be applied and are kept in the receiver's dead-letter table; see kubectl logs -n {ns} deploy/{ReceiverNames.Receiver(integration.Metadata.Name)}");
        }

        return True(type, ConditionReasons.Synced,
            integration.Spec.Harvest is null
                ? $"Webhooks are processed; last event {Time(sync.LastEventAt)}"
                : $"Webhooks are processed and Harvest sweeps succeed; last sweep {Time(sync.LastResyncAt)}, last event {Time(sync.LastEventAt)}");
    }

    private static string Detail(string? error) => string.IsNullOrEmpty(error) ? "" : $" (last error: {error})";

    private static string Time(DateTime? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static Condition True(string type, string reason, string message) =>
        new() { Type = type, Status = Conditions.True, Reason = reason, Message = message };

    private static Condition False(string type, string reason, string message) =>
        new() { Type = type, Status = Conditions.False, Reason = reason, Message = message };
}
