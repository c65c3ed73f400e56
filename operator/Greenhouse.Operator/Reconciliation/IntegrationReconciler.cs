using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ControllerRuntime;
using Greenhouse.Contracts;
using Greenhouse.Harvest;
using Greenhouse.Operator.Health;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Reconciles one GreenhouseIntegration: resolves its Secrets, builds the desired objects, writes
/// them with server-side apply only when they differ from the cache or their applied hash (zero writes
/// when nothing changed), deletes optional objects no longer wanted, and writes status and events only on change.
/// </summary>
public sealed partial class IntegrationReconciler : IReconciler
{
    private const string FieldManager = "greenhouse-operator";

    // After a status conflict the newer version's watch event normally queues us first; this is the fallback.
    private static readonly TimeSpan StatusConflictRetry = TimeSpan.FromSeconds(1);

    private readonly IKubernetes _client;
    private readonly OperatorCaches _caches;
    private readonly OperatorSettings _settings;
    private readonly EventRecorder _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly OperatorMetrics _metrics;
    private readonly HealthPoller? _health;
    private readonly HarvestCredentialValidator? _validator;
    private readonly GreenhouseWebhookRegistrar? _registrar;
    private readonly ObjectApplier _applier;
    private readonly ConcurrentDictionary<ObjectKey, DateTime> _statusWrittenAt = new();

    public IntegrationReconciler(IKubernetes client, OperatorCaches caches, OperatorSettings settings, EventRecorder events, TimeProvider timeProvider, ILogger<IntegrationReconciler> logger, OperatorMetrics metrics,
        HealthPoller? health = null, HarvestCredentialValidator? validator = null, GreenhouseWebhookRegistrar? registrar = null)
    {
        _registrar = registrar;
        _health = health;
        _validator = validator;
        _client = client;
        _caches = caches;
        _settings = settings;
        _events = events;
        _time = timeProvider;
        _logger = logger;
        _metrics = metrics;
        _applier = new ObjectApplier(client, FieldManager, ResourceAnnotations.AppliedHash);
    }

    public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var integration = _caches.Integrations.Get(key);
        if (integration is not null && integration.Metadata.DeletionTimestamp is not null && HasFinalizer(integration))
        {
            return await FinalizeAsync(integration, cancellationToken).ConfigureAwait(false);
        }

        if (integration is null || integration.Metadata.DeletionTimestamp is not null)
        {
            // Owned objects go with their owner through garbage collection.
            _metrics.Forget(key);
            _validator?.Forget(key);
            _registrar?.Forget(key);
            _statusWrittenAt.TryRemove(key, out _);
            return ReconcileResult.Done;
        }

        if (_registrar is not null && WebhookRegistrationMode.IsHarvestApi(integration.Spec) && !HasFinalizer(integration))
        {
            // Before anything is registered: the deletion of the integration must wait for the webhooks' removal.
            if (await SetFinalizerAsync(integration, add: true, cancellationToken).ConfigureAwait(false) is not { } withFinalizer)
            {
                return ReconcileResult.After(StatusConflictRetry);
            }

            integration = withFinalizer;
        }

        var health = _health?.Get(key);
        // One clock reading for the secret schedule and the status: a deadline the schedule has not reached yet is
        // still ahead for the status (and requeued for), even when applying took past it.
        var now = _time.GetUtcNow().UtcDateTime;
        var resolution = await ResolveAsync(integration, health, now, cancellationToken).ConfigureAwait(false);
        OwnedObjectApplyException? failure = null;
        if (resolution.Inputs is { } inputs)
        {
            try
            {
                // A name taken by someone else's object (NameConflict) or a refused storage change is reported like an input problem.
                if (await ApplyAsync(integration, DesiredStateBuilder.Build(integration, inputs, _settings), cancellationToken).ConfigureAwait(false) is { } applyProblem)
                {
                    resolution = resolution with { Problem = applyProblem };
                }
            }
            catch (OwnedObjectApplyException e)
            {
                failure = e;
            }
        }

        RegistrationOutcome? registration = null;
        if (failure is null && resolution.Problem is null && resolution.Inputs is { } resolved && resolution.Webhook is { } webhookPlan && _registrar is not null)
        {
            (integration, registration) = await RegisterAsync(integration, resolved, webhookPlan, health, cancellationToken).ConfigureAwait(false);
        }

        var result = StatusBuilder.Build(new StatusInputs
        {
            Integration = integration,
            Now = now,
            Problem = resolution.Problem,
            ApplyFailure = failure?.Message,
            Deployment = _caches.Deployments.Get(new ObjectKey(key.Namespace, ReceiverNames.Receiver(key.Name))),
            Health = health,
            Webhook = failure is null ? resolution.Webhook : null,
            HarvestValidation = resolution.HarvestValidation,
            HarvestHeldBack = resolution.HarvestHeldBack,
            Registration = registration,
        });
        var (written, deferred) = await UpdateStatusAsync(integration, result, cancellationToken).ConfigureAwait(false);
        if (written && registration is { Changes: var (created, updated, deleted) } && created + updated + deleted > 0)
        {
            await _events.RecordAsync(integration, EventRecorder.Normal, "WebhooksRegistered",
                $"Greenhouse confirmed {created} created, {updated} updated and {deleted} deleted webhooks for {integration.Spec.Webhook.Endpoint} (webhook secret version {registration.RegisteredSecretVersion})", cancellationToken).ConfigureAwait(false);
            LogRegistered(_logger, key.Namespace, key.Name, created, updated, deleted, registration.RegisteredSecretVersion ?? 0);
        }

        if (failure is null && resolution.Webhook is { Changed: true, Trigger: not "Created" } rotated && written)
        {
            await _events.RecordAsync(integration, EventRecorder.Normal, "WebhookSecretRotated",
                $"Webhook secret version {rotated.Status.SecretVersion} is in effect ({rotated.Trigger}); the previous key stays accepted until Greenhouse signs with the new one", cancellationToken).ConfigureAwait(false);
            LogRotated(_logger, key.Namespace, key.Name, rotated.Status.SecretVersion ?? 0, rotated.Trigger!);
        }

        if (failure is not null)
        {
            // Status says ApplyFailed; the exception gives the per-key backoff.
            throw failure;
        }

        if (!written)
        {
            return ReconcileResult.After(StatusConflictRetry);
        }

        var next = result.NextCheckAt is { } at ? at - now : (TimeSpan?)null;
        if (deferred is { } wait && (next is null || wait < next))
        {
            next = wait;
        }

        // Deadlines beyond the resync period are met by the resync that comes first.
        return next is { } delay && delay < _settings.ResyncPeriod
            ? ReconcileResult.After(delay < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : delay)
            : ReconcileResult.Done;
    }

    private async Task<Resolution> ResolveAsync(GreenhouseIntegration integration, HealthSummary? health, DateTime now, CancellationToken cancellationToken)
    {
        var ns = integration.Metadata.NamespaceProperty;
        var name = integration.Metadata.Name;
        var spec = integration.Spec;
        if (!Uri.TryCreate(spec.Webhook.Endpoint, UriKind.Absolute, out _))
        {
            return new Resolution { Problem = new InputProblem(ConditionReasons.InvalidSpec, $"spec.webhook.endpoint \"{spec.Webhook.Endpoint}\" is not an absolute URL; set it to the https URL Greenhouse posts to.") };
        }

        if (SpecPolicy.Check(spec, _settings) is { } policyProblem)
        {
            return new Resolution { Problem = policyProblem };
        }

        if (StorageRules.CheckReplicas(spec.Receiver?.Replicas) is { } replicasProblem)
        {
            return new Resolution { Problem = replicasProblem };
        }

        ReadOnlyMemory<byte>? userSecret = null;
        if (spec.Webhook.SecretRef is { } webhookRef)
        {
            var webhookKey = webhookRef.Key ?? SecretFileNames.WebhookSecret;
            var (value, problem) = await ReadAsync(ns, webhookRef.Name, webhookKey, $"key {webhookKey} (the secret key typed into Greenhouse)", cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return new Resolution { Problem = problem with { ConditionType = ConditionTypes.WebhookSecretReady } };
            }

            if (SpecPolicy.CheckWebhookSecret(webhookRef.Name, webhookKey, value!.Length) is { } tooShort)
            {
                return new Resolution { Problem = tooShort with { ConditionType = ConditionTypes.WebhookSecretReady } };
            }

            userSecret = value!;
        }

        var effectiveKey = new ObjectKey(ns, ReceiverNames.WebhookSecret(name));
        var cached = _caches.Secrets.Get(effectiveKey);
        IReadOnlyCollection<string> verified = health?.VerifiedSecrets ?? [];
        if (WebhookRegistrationMode.IsHarvestApi(spec) && integration.Status?.Webhook?.RegisteredSecretVersion is { } registeredVersion
            && EffectiveWebhookSecret.From(cached) is { Current: { } registeredSecret, Version: { } effectiveVersion } && effectiveVersion == registeredVersion)
        {
            // Greenhouse confirmed the PATCH of this secret: it signs with it from now on (adoption without waiting for a delivery).
            verified = [.. verified, WebhookSecretRotation.Fingerprint(registeredSecret)];
        }

        var plan = WebhookSecretRotation.Plan(integration, userSecret, EffectiveWebhookSecret.From(cached), verified, now, NewWebhookSecret);

        // While other inputs are missing nothing is written, so a change planned now must not show in status.
        var unchangedPlan = plan.Changed ? null : plan;

        HarvestCredentials? harvest = null;
        HarvestValidation? validation = null;
        var heldBack = false;
        if (spec.Harvest is { } harvestSpec)
        {
            var secretName = harvestSpec.CredentialsSecretRef.Name;
            const string keys = "keys client_id and client_secret";
            var (clientId, idProblem) = await ReadAsync(ns, secretName, SecretFileNames.ClientId, keys, cancellationToken).ConfigureAwait(false);
            var (clientSecret, secretProblem) = await ReadAsync(ns, secretName, SecretFileNames.ClientSecret, keys, cancellationToken).ConfigureAwait(false);
            if ((idProblem ?? secretProblem) is { } problem)
            {
                return new Resolution { Problem = problem with { ConditionType = ConditionTypes.HarvestAuthenticated }, Webhook = unchangedPlan };
            }

            var effective = _caches.Secrets.Get(new ObjectKey(ns, ReceiverNames.HarvestSecret(name)));
            if (_validator is not null)
            {
                var tokenUrl = new Uri(harvestSpec.TokenUrl ?? "https://auth.greenhouse.io/token");
                validation = await _validator.ValidateAsync(ObjectKey.Of(integration), secretName, tokenUrl, harvestSpec.SyncUserId, clientId, clientSecret, cancellationToken).ConfigureAwait(false);
            }

            var inEffect = effective?.Data is { } effectiveData
                && effectiveData.TryGetValue(SecretFileNames.ClientId, out var effectiveId) && effectiveId.AsSpan().SequenceEqual(clientId)
                && effectiveData.TryGetValue(SecretFileNames.ClientSecret, out var effectiveSecret) && CryptographicOperations.FixedTimeEquals(effectiveSecret, clientSecret);
            if (inEffect || validation is null or { Outcome: HarvestTokenCheckOutcome.Accepted })
            {
                harvest = new HarvestCredentials(clientId!, clientSecret!, Previous(effective, SecretFileNames.ClientSecret, SecretFileNames.PreviousClientSecret, clientSecret!));
            }
            else if (effective?.Data is { } kept && kept.TryGetValue(SecretFileNames.ClientId, out var keptId) && kept.TryGetValue(SecretFileNames.ClientSecret, out var keptSecret))
            {
                // Never roll out credentials that failed a token request: the receivers keep the last working ones.
                heldBack = true;
                harvest = new HarvestCredentials(keptId, keptSecret, kept.TryGetValue(SecretFileNames.PreviousClientSecret, out var keptPrevious) ? new ReadOnlyMemory<byte>(keptPrevious) : (ReadOnlyMemory<byte>?)null);
                LogHarvestHeldBack(_logger, ns, name, secretName, validation.Outcome.ToString());
            }
            else
            {
                LogHarvestHeldBack(_logger, ns, name, secretName, validation.Outcome.ToString());
                var reason = validation.Outcome == HarvestTokenCheckOutcome.Rejected ? ConditionReasons.CredentialsRejected : ConditionReasons.Unreachable;
                return new Resolution
                {
                    Problem = new InputProblem(reason, $"The Harvest credentials in Secret \"{secretName}\" did not obtain a token ({validation.Message}); nothing is rolled out until they do", ConditionTypes.HarvestAuthenticated),
                    Webhook = unchangedPlan,
                    HarvestValidation = validation,
                    HarvestHeldBack = true,
                };
            }
        }

        BasicAuthCredentials? basicAuth = null;
        if (spec.Webhook.BasicAuthSecretRef is { } basicRef)
        {
            const string keys = "keys username and password (type kubernetes.io/basic-auth)";
            var (user, userProblem) = await ReadAsync(ns, basicRef.Name, SecretFileNames.BasicAuthUsername, keys, cancellationToken).ConfigureAwait(false);
            var (password, passwordProblem) = await ReadAsync(ns, basicRef.Name, SecretFileNames.BasicAuthPassword, keys, cancellationToken).ConfigureAwait(false);
            if ((userProblem ?? passwordProblem) is { } problem)
            {
                return new Resolution { Problem = problem with { ConditionType = ConditionTypes.WebhookSecretReady }, Webhook = unchangedPlan };
            }

            basicAuth = new BasicAuthCredentials(user!, password!);
        }

        // No read of the API to confirm a planned change: the cache already holds what this process wrote
        // (InformerSet.Remember), so a change is never decided on a version older than our last write.
        return new Resolution
        {
            Inputs = new ResolvedInputs
            {
                WebhookSecret = plan.Current,
                PreviousWebhookSecret = plan.Previous,
                WebhookSecretAnnotations = WebhookSecretRotation.Annotations(plan),
                Harvest = harvest,
                BasicAuth = basicAuth,
            },
            Webhook = plan,
            HarvestValidation = validation,
            HarvestHeldBack = heldBack,
        };
    }

    /// <summary>
    /// HarvestApi: registers the webhooks with the current secret once every ready receiver pod has loaded it (a
    /// secret Greenhouse signs with before the receivers know it would be answered 401). Manual with the finalizer
    /// still present (switched back): deletes the registrations, then the finalizer.
    /// </summary>
    private async Task<(GreenhouseIntegration Integration, RegistrationOutcome? Outcome)> RegisterAsync(GreenhouseIntegration integration, ResolvedInputs resolved, WebhookSecretPlan plan, HealthSummary? health, CancellationToken cancellationToken)
    {
        var spec = integration.Spec;
        var key = ObjectKey.Of(integration);
        var observed = integration.Status?.Webhook;
        if (WebhookRegistrationMode.IsHarvestApi(spec))
        {
            if (spec.Harvest is not { } harvestSpec || resolved.Harvest is not { } credentials)
            {
                return (integration, null);
            }

            var loaded = health is { Pods: > 0, Unreachable.Count: 0 } && health.LoadedSecrets.Count == 1
                && health.LoadedSecrets[0] == WebhookSecretRotation.Fingerprint(plan.Current);
            if (!loaded)
            {
                return (integration, RegistrationOutcome.Unchanged(observed) with { AwaitingReceivers = true });
            }

            var desired = new DesiredRegistration(
                new Uri(spec.Webhook.Endpoint),
                spec.Webhook.Events is { Count: > 0 } events ? [.. events.Distinct(StringComparer.Ordinal)] : HarvestWebhookEvents.All,
                Encoding.UTF8.GetString(plan.Current.Span),
                plan.Status.SecretVersion ?? 1,
                resolved.BasicAuth is { } basic ? Encoding.UTF8.GetString(basic.Username.Span) : null,
                resolved.BasicAuth is { } basicAuth ? Encoding.UTF8.GetString(basicAuth.Password.Span) : null,
                integration.Metadata.Uid,
                $"{key.Namespace}/{key.Name}");
            var outcome = await _registrar!.SyncAsync(key, Connection(harvestSpec, credentials.ClientId, credentials.ClientSecret), desired, observed, harvestSpec.CredentialsSecretRef.Name, cancellationToken).ConfigureAwait(false);
            if (outcome.Problem is { } problem)
            {
                LogRegistrationRefused(_logger, key.Namespace, key.Name, problem.Reason);
            }

            return (integration, outcome);
        }

        if (!HasFinalizer(integration))
        {
            return (integration, null);
        }

        // Switched back to Manual: what the operator registered goes, then the finalizer.
        if (spec.Harvest is { } manualHarvest && resolved.Harvest is { } manualCredentials)
        {
            var (deleted, problem) = await _registrar!.DeleteAllAsync(key, Connection(manualHarvest, manualCredentials.ClientId, manualCredentials.ClientSecret), integration.Metadata.Uid,
                observed?.Registrations?.Select(r => r.Id) ?? [], manualHarvest.CredentialsSecretRef.Name, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                await _events.RecordAsync(integration, EventRecorder.Warning, "UnregisterFailed", $"spec.webhook.registration is Manual, but the webhooks registered before could not be deleted: {problem.Message}", cancellationToken).ConfigureAwait(false);
                return (integration, RegistrationOutcome.Unchanged(observed) with { RetryAt = _time.GetUtcNow().UtcDateTime + _settings.HarvestValidationRetry });
            }

            await _events.RecordAsync(integration, EventRecorder.Normal, "WebhooksUnregistered", $"spec.webhook.registration is Manual: deleted {deleted} webhooks the operator had registered in Greenhouse; configure the webhook in Greenhouse by hand", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _events.RecordAsync(integration, EventRecorder.Warning, "RegistrationsOrphaned", $"spec.harvest is gone, so the webhooks registered before ({Ids(observed)}) could not be deleted; delete them in Greenhouse (Configure > Dev Center > Web Hooks)", cancellationToken).ConfigureAwait(false);
        }

        return (await SetFinalizerAsync(integration, add: false, cancellationToken).ConfigureAwait(false) ?? integration, null);
    }

    /// <summary>The integration is being deleted and carries the finalizer: delete its webhooks in Greenhouse, then let it go.</summary>
    private async Task<ReconcileResult> FinalizeAsync(GreenhouseIntegration integration, CancellationToken cancellationToken)
    {
        var key = ObjectKey.Of(integration);
        var observed = integration.Status?.Webhook;
        var connection = integration.Spec.Harvest is { } harvest ? await DeletionConnectionAsync(integration, harvest, cancellationToken).ConfigureAwait(false) : null;
        if (connection is null || _registrar is null)
        {
            await _events.RecordAsync(integration, EventRecorder.Warning, "RegistrationsOrphaned", $"No Harvest credentials are left to delete the webhooks registered in Greenhouse ({Ids(observed)}); delete them in Greenhouse (Configure > Dev Center > Web Hooks)", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var (deleted, problem) = await _registrar.DeleteAllAsync(key, connection, integration.Metadata.Uid, observed?.Registrations?.Select(r => r.Id) ?? [], integration.Spec.Harvest!.CredentialsSecretRef.Name, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                // The finalizer stays: deleting the integration waits until Greenhouse stops posting (or someone removes it by hand).
                await _events.RecordAsync(integration, EventRecorder.Warning, "UnregisterFailed", $"Deleting the webhooks registered in Greenhouse failed: {problem.Message} The integration is deleted once they are gone; to abandon them, remove the finalizer {WebhookRegistrationMode.Finalizer}.", cancellationToken).ConfigureAwait(false);
                return ReconcileResult.After(_settings.HarvestValidationRetry);
            }

            await _events.RecordAsync(integration, EventRecorder.Normal, "WebhooksUnregistered", $"Deleted {deleted} webhooks registered in Greenhouse for {integration.Spec.Webhook.Endpoint}", cancellationToken).ConfigureAwait(false);
        }

        if (await SetFinalizerAsync(integration, add: false, cancellationToken).ConfigureAwait(false) is null)
        {
            return ReconcileResult.After(StatusConflictRetry);
        }

        _registrar?.Forget(key);
        return ReconcileResult.Done;
    }

    /// <summary>Credentials to delete webhooks with: the referenced Secret's, else the effective copy the operator wrote.</summary>
    private async Task<HarvestConnection?> DeletionConnectionAsync(GreenhouseIntegration integration, HarvestSpec harvest, CancellationToken cancellationToken)
    {
        var ns = integration.Metadata.NamespaceProperty;
        foreach (var secret in new[] { harvest.CredentialsSecretRef.Name, ReceiverNames.HarvestSecret(integration.Metadata.Name) })
        {
            var (id, idProblem) = await ReadAsync(ns, secret, SecretFileNames.ClientId, "keys client_id and client_secret", cancellationToken).ConfigureAwait(false);
            var (value, secretProblem) = await ReadAsync(ns, secret, SecretFileNames.ClientSecret, "keys client_id and client_secret", cancellationToken).ConfigureAwait(false);
            if (idProblem is null && secretProblem is null)
            {
                return Connection(harvest, id!, value!);
            }
        }

        return null;
    }

    private static HarvestConnection Connection(HarvestSpec harvest, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> clientSecret) => new(
        new Uri(harvest.BaseUrl ?? "https://harvest.greenhouse.io/v3"),
        new Uri(harvest.TokenUrl ?? "https://auth.greenhouse.io/token"),
        harvest.SyncUserId,
        Encoding.UTF8.GetString(clientId.Span),
        Encoding.UTF8.GetString(clientSecret.Span));

    private static string Ids(WebhookStatus? observed) =>
        observed?.Registrations is { Count: > 0 } registrations ? "ids " + string.Join(", ", registrations.Select(r => r.Id)) : "ids unknown";

    private static bool HasFinalizer(GreenhouseIntegration integration) =>
        integration.Metadata.Finalizers?.Contains(WebhookRegistrationMode.Finalizer) == true;

    /// <summary>Adds or removes the registration finalizer (conditional on the resourceVersion); null when the write lost a conflict.</summary>
    private async Task<GreenhouseIntegration?> SetFinalizerAsync(GreenhouseIntegration integration, bool add, CancellationToken cancellationToken)
    {
        var finalizers = (integration.Metadata.Finalizers ?? []).Where(f => f != WebhookRegistrationMode.Finalizer).ToList();
        if (add)
        {
            finalizers.Add(WebhookRegistrationMode.Finalizer);
        }

        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["resourceVersion"] = integration.Metadata.ResourceVersion,
                ["finalizers"] = new JsonArray([.. finalizers.Select(f => (JsonNode)JsonValue.Create(f))]),
            },
        };
        try
        {
            var written = await _client.CustomObjects.PatchNamespacedCustomObjectAsync<GreenhouseIntegration>(
                new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch),
                GreenhouseIntegration.Group, GreenhouseIntegration.Version, integration.Metadata.NamespaceProperty, GreenhouseIntegration.Plural, integration.Metadata.Name,
                fieldManager: FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            _caches.Integrations.Remember(written);
            LogFinalizer(_logger, integration.Metadata.NamespaceProperty, integration.Metadata.Name, add ? "added" : "removed");
            return written;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static byte[] NewWebhookSecret() => Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));

    /// <summary>
    /// When a secret value changes, the value it replaces stays accepted as "previous" (overlap window);
    /// otherwise the previous value already in the effective Secret is kept.
    /// </summary>
    private static ReadOnlyMemory<byte>? Previous(V1Secret? effective, string currentKey, string previousKey, byte[] current)
    {
        if (effective?.Data is not { } data)
        {
            return null;
        }

        if (data.TryGetValue(currentKey, out var existing) && !CryptographicOperations.FixedTimeEquals(existing, current))
        {
            return existing;
        }

        // A missing or empty previous value is no previous value (never an empty key the receiver would accept).
        return data.TryGetValue(previousKey, out var previous) && previous is { Length: > 0 } ? new ReadOnlyMemory<byte>(previous) : (ReadOnlyMemory<byte>?)null;
    }

    private async Task<(byte[]? Value, InputProblem? Problem)> ReadAsync(string ns, string secret, string key, string expectedKeys, CancellationToken cancellationToken)
    {
        if (!_caches.ReferencedSecrets.TryGet(new ObjectKey(ns, secret), out var found))
        {
            // Its watch has only just started (the reference is new): read it by name this once.
            found = await ReadSecretAsync(ns, secret, cancellationToken).ConfigureAwait(false);
        }

        if (found is null)
        {
            return (null, new InputProblem(ConditionReasons.SecretNotFound, $"Secret \"{secret}\" in namespace \"{ns}\" not found; create it with {expectedKeys}"));
        }

        byte[]? value = null;
        if (found.Data?.TryGetValue(key, out value) != true || value is not { Length: > 0 })
        {
            return (null, new InputProblem(ConditionReasons.SecretKeyMissing, $"Secret \"{secret}\" in namespace \"{ns}\" has no non-empty key \"{key}\"; it needs {expectedKeys}"));
        }

        return (value, null);
    }

    private async Task<V1Secret?> ReadSecretAsync(string ns, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Applies every desired object; the first problem found (a name taken by someone else's object, or a storage
    /// change the live claim refuses) is returned to report. An API error other than a conflict throws
    /// <see cref="OwnedObjectApplyException"/> (ApplyFailed).
    /// </summary>
    private async Task<InputProblem?> ApplyAsync(GreenhouseIntegration integration, DesiredState desired, CancellationToken cancellationToken)
    {
        var ns = integration.Metadata.NamespaceProperty;
        var name = integration.Metadata.Name;
        var receiver = new ObjectKey(ns, ReceiverNames.Receiver(name));
        var conflicts = new List<string>();
        await ApplyAsync(_caches.Secrets, desired.WebhookSecret, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyOptionalAsync(_caches.Secrets, desired.HarvestSecret, new ObjectKey(ns, ReceiverNames.HarvestSecret(name)), integration, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.ConfigMaps, desired.ConfigMap, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.ServiceAccounts, desired.ServiceAccount, conflicts, cancellationToken).ConfigureAwait(false);
        var storageProblem = StorageRules.Check(desired.PersistentVolumeClaim, _caches.PersistentVolumeClaims.Get(ObjectKey.Of(desired.PersistentVolumeClaim)));
        if (storageProblem is null)
        {
            await ApplyAsync(_caches.PersistentVolumeClaims, desired.PersistentVolumeClaim, conflicts, cancellationToken).ConfigureAwait(false);
        }

        await ApplyAsync(_caches.Services, desired.Service, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.Deployments, desired.Deployment, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyOptionalAsync(_caches.Ingresses, desired.Ingress, receiver, integration, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyOptionalAsync(_caches.PodDisruptionBudgets, desired.PodDisruptionBudget, receiver, integration, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.NetworkPolicies, desired.NetworkPolicy, conflicts, cancellationToken).ConfigureAwait(false);
        return conflicts.Count > 0
            ? new InputProblem(ConditionReasons.NameConflict, string.Join("; ", conflicts))
            : storageProblem;
    }

    private async Task ApplyAsync<T>(InformerSet<T> cache, T desired, List<string> conflicts, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var key = ObjectKey.Of(desired);
        ApplyResult<T> result;
        try
        {
            // Server-side apply: a field (or Secret key) the desired object no longer has is removed by the server.
            result = await _applier.ApplyAsync(desired, cache.Get(key), cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode != HttpStatusCode.Conflict)
        {
            throw new OwnedObjectApplyException($"Writing {desired.Kind} \"{key.Name}\" failed: {(int)ex.Response.StatusCode} {ApiMessage(ex)}", ex);
        }

        switch (result.Outcome)
        {
            case ApplyOutcome.Applied:
                cache.Remember(result.Written!);
                LogApplied(_logger, desired.Kind, key);
                break;
            case ApplyOutcome.NameConflict:
                conflicts.Add($"{desired.Kind} \"{key.Name}\" in namespace \"{key.Namespace}\" already exists and is not managed by this integration ({result.Message}); delete or rename it, or rename the integration");
                LogNameConflict(_logger, desired.Kind, key);
                break;
        }
    }

    private static string ApiMessage(HttpOperationException ex)
    {
        try
        {
            return JsonNode.Parse(ex.Response.Content ?? "")?["message"]?.GetValue<string>() ?? ex.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return ex.Message;
        }
    }

    private async Task ApplyOptionalAsync<T>(InformerSet<T> cache, T? desired, ObjectKey key, GreenhouseIntegration owner, List<string> conflicts, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (desired is not null)
        {
            await ApplyAsync(cache, desired, conflicts, cancellationToken).ConfigureAwait(false);
            return;
        }

        var observed = cache.Get(key);
        if (observed?.Metadata.OwnerReferences?.Any(r => r.Controller == true && r.Uid == owner.Metadata.Uid) != true)
        {
            return;
        }

        if (await _applier.DeleteAsync<T>(key, observed.Metadata.Uid, cancellationToken).ConfigureAwait(false))
        {
            LogDeleted(_logger, observed.Kind ?? typeof(T).Name, key);
        }
    }

    /// <summary>
    /// Writes the status when it changed (Written false when the write lost a conflict). A change of
    /// only the sync/harvest figures within <see cref="OperatorSettings.StatusWriteInterval"/> of the last
    /// write is deferred (Deferred: when to try again), so steady traffic writes at most once per interval.
    /// </summary>
    private async Task<(bool Written, TimeSpan? Deferred)> UpdateStatusAsync(GreenhouseIntegration integration, StatusResult result, CancellationToken cancellationToken)
    {
        var ns = integration.Metadata.NamespaceProperty;
        var name = integration.Metadata.Name;
        var key = ObjectKey.Of(integration);
        var observed = integration.Status;
        var status = result.Status;
        var ready = Conditions.Find(status.Conditions, ConditionTypes.Ready)!;
        _metrics.SetReady(key, ready.Status);

        // The status is the operator's alone: compared whole, so a field that went away (previousValidUntil after the
        // grace period, harvest.lastError after a recovery) is a change too, and is removed by the patch below.
        var desired = ObjectComparison.ToNode(status);
        var current = observed is null ? null : ObjectComparison.ToNode(observed);
        if (current is not null && JsonNode.DeepEquals(current, desired))
        {
            return (true, null);
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var figuresOnly = observed is not null && JsonNode.DeepEquals(ObjectComparison.ToNode(observed with { Sync = status.Sync, Harvest = status.Harvest }), desired);
        if (figuresOnly && _statusWrittenAt.TryGetValue(key, out var last) && now < last + _settings.StatusWriteInterval)
        {
            return (true, last + _settings.StatusWriteInterval - now);
        }

        // The resourceVersion makes the patch conditional: a status computed from a stale cache is refused
        // (409) instead of overwriting newer state; the newer version's watch event queues us again.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = integration.Metadata.ResourceVersion },
            ["status"] = WithRemovals(current, desired),
        };
        try
        {
            await _client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
                new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch),
                GreenhouseIntegration.Group, GreenhouseIntegration.Version, ns, GreenhouseIntegration.Plural, name,
                fieldManager: FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return (false, null);
        }

        _statusWrittenAt[key] = now;
        foreach (var transition in result.Transitions)
        {
            var type = transition.Status == Conditions.True ? EventRecorder.Normal : EventRecorder.Warning;
            var message = transition.Type == ConditionTypes.Ready ? transition.Message! : $"{transition.Type}={transition.Status}: {transition.Message}";
            await _events.RecordAsync(integration, type, transition.Reason!, message, cancellationToken).ConfigureAwait(false);
            LogConditionChanged(_logger, ns, name, transition.Type, transition.Status, transition.Reason!);
        }

        return (true, null);
    }

    /// <summary>A JSON merge patch from <paramref name="observed"/> to <paramref name="desired"/>: object members only the observed has are set to null (removed).</summary>
    private static JsonNode? WithRemovals(JsonNode? observed, JsonNode? desired)
    {
        if (observed is not JsonObject before || desired is not JsonObject after)
        {
            return desired;
        }

        var patch = new JsonObject();
        foreach (var (name, value) in after)
        {
            patch[name] = WithRemovals(before[name], value?.DeepClone());
        }

        foreach (var (name, _) in before)
        {
            if (!after.ContainsKey(name))
            {
                patch[name] = null;
            }
        }

        return patch;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Kind} {Key}")]
    private static partial void LogApplied(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Kind} {Key} exists and is not managed by the operator; not taking it over")]
    private static partial void LogNameConflict(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Kind} {Key}")]
    private static partial void LogDeleted(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Integration {Namespace}/{Name} {Condition}={Status} ({Reason})")]
    private static partial void LogConditionChanged(ILogger logger, string @namespace, string name, string condition, string status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Integration {Namespace}/{Name}: webhook secret version {Version} in effect ({Trigger})")]
    private static partial void LogRotated(ILogger logger, string @namespace, string name, long version, string trigger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Integration {Namespace}/{Name}: Greenhouse confirmed {Created} created, {Updated} updated, {Deleted} deleted webhooks (secret version {Version})")]
    private static partial void LogRegistered(ILogger logger, string @namespace, string name, int created, int updated, int deleted, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Integration {Namespace}/{Name}: webhook registration in Greenhouse failed ({Reason})")]
    private static partial void LogRegistrationRefused(ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Integration {Namespace}/{Name}: finalizer {Change}")]
    private static partial void LogFinalizer(ILogger logger, string @namespace, string name, string change);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Integration {Namespace}/{Name}: Harvest credentials of Secret {Secret} not rolled out (token request {Outcome})")]
    private static partial void LogHarvestHeldBack(ILogger logger, string @namespace, string name, string secret, string outcome);
}
