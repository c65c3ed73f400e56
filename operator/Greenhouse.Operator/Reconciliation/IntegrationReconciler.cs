using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ControllerRuntime;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Reconciles one GreenhouseIntegration: resolves its Secrets, builds the desired objects, writes
/// only what differs from the cache (zero writes when nothing changed), deletes optional objects
/// no longer wanted, and writes status and events only on change.
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
    private readonly ObjectApplier _applier;

    public IntegrationReconciler(IKubernetes client, OperatorCaches caches, OperatorSettings settings, EventRecorder events, TimeProvider timeProvider, ILogger<IntegrationReconciler> logger, OperatorMetrics metrics)
    {
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
        if (integration is null || integration.Metadata.DeletionTimestamp is not null)
        {
            // Owned objects go with their owner through garbage collection.
            _metrics.Forget(key);
            return ReconcileResult.Done;
        }

        var (inputs, problem) = await ResolveAsync(integration, cancellationToken).ConfigureAwait(false);
        if (inputs is not null)
        {
            problem = await ApplyAsync(integration, DesiredStateBuilder.Build(integration, inputs, _settings), cancellationToken).ConfigureAwait(false);
        }

        var written = await UpdateStatusAsync(integration, problem, cancellationToken).ConfigureAwait(false);
        return written ? ReconcileResult.Done : ReconcileResult.After(StatusConflictRetry);
    }

    private async Task<(ResolvedInputs? Inputs, InputProblem? Problem)> ResolveAsync(GreenhouseIntegration integration, CancellationToken cancellationToken)
    {
        var ns = integration.Metadata.NamespaceProperty;
        var name = integration.Metadata.Name;
        var spec = integration.Spec;
        if (!Uri.TryCreate(spec.Webhook.Endpoint, UriKind.Absolute, out _))
        {
            return (null, new InputProblem(ConditionReasons.InvalidSpec, $"spec.webhook.endpoint \"{spec.Webhook.Endpoint}\" is not an absolute URL; set it to the https URL Greenhouse posts to."));
        }

        if (StorageRules.CheckReplicas(spec.Receiver?.Replicas) is { } replicasProblem)
        {
            return (null, replicasProblem);
        }

        var effectiveWebhook = _caches.Secrets.Get(new ObjectKey(ns, ReceiverNames.WebhookSecret(name)));
        byte[] webhookSecret;
        if (spec.Webhook.SecretRef is { } webhookRef)
        {
            var webhookKey = webhookRef.Key ?? SecretFileNames.WebhookSecret;
            var (value, problem) = await ReadAsync(ns, webhookRef.Name, webhookKey, $"key {webhookKey} (the secret key typed into Greenhouse)", cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return (null, problem);
            }

            webhookSecret = value!;
        }
        else
        {
            // Generated once and kept: the cache holds our own Secret, and what we wrote before its watch event came.
            webhookSecret = effectiveWebhook?.Data is { } effectiveData && effectiveData.TryGetValue(SecretFileNames.WebhookSecret, out var existing) && existing is { Length: > 0 }
                ? existing
                : Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        }

        HarvestCredentials? harvest = null;
        if (spec.Harvest is { } harvestSpec)
        {
            var secretName = harvestSpec.CredentialsSecretRef.Name;
            const string keys = "keys client_id and client_secret";
            var (clientId, idProblem) = await ReadAsync(ns, secretName, SecretFileNames.ClientId, keys, cancellationToken).ConfigureAwait(false);
            var (clientSecret, secretProblem) = await ReadAsync(ns, secretName, SecretFileNames.ClientSecret, keys, cancellationToken).ConfigureAwait(false);
            if ((idProblem ?? secretProblem) is { } problem)
            {
                return (null, problem);
            }

            var effective = _caches.Secrets.Get(new ObjectKey(ns, ReceiverNames.HarvestSecret(name)));
            harvest = new HarvestCredentials(clientId!, clientSecret!, Previous(effective, SecretFileNames.ClientSecret, SecretFileNames.PreviousClientSecret, clientSecret!));
        }

        BasicAuthCredentials? basicAuth = null;
        if (spec.Webhook.BasicAuthSecretRef is { } basicRef)
        {
            const string keys = "keys username and password (type kubernetes.io/basic-auth)";
            var (user, userProblem) = await ReadAsync(ns, basicRef.Name, SecretFileNames.BasicAuthUsername, keys, cancellationToken).ConfigureAwait(false);
            var (password, passwordProblem) = await ReadAsync(ns, basicRef.Name, SecretFileNames.BasicAuthPassword, keys, cancellationToken).ConfigureAwait(false);
            if ((userProblem ?? passwordProblem) is { } problem)
            {
                return (null, problem);
            }

            basicAuth = new BasicAuthCredentials(user!, password!);
        }

        return (new ResolvedInputs
        {
            WebhookSecret = webhookSecret,
            PreviousWebhookSecret = Previous(effectiveWebhook, SecretFileNames.WebhookSecret, SecretFileNames.PreviousWebhookSecret, webhookSecret),
            Harvest = harvest,
            BasicAuth = basicAuth,
        }, null);
    }

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
        return data.TryGetValue(previousKey, out var previous) && previous is { Length: > 0 } ? previous : (ReadOnlyMemory<byte>?)null;
    }

    private async Task<(byte[]? Value, InputProblem? Problem)> ReadAsync(string ns, string secret, string key, string expectedKeys, CancellationToken cancellationToken)
    {
        var found = _caches.Secrets.Get(new ObjectKey(ns, secret));
        if (found is not null && OperatorCaches.WithoutData(found))
        {
            // Cached before an integration referenced it: read it once; its next changes arrive with data.
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
            var secret = await _client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            _caches.Secrets.Refresh(secret);
            return secret;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Applies every desired object; the first name conflict found is returned as the problem to report.</summary>
    private async Task<InputProblem?> ApplyAsync(GreenhouseIntegration integration, DesiredState desired, CancellationToken cancellationToken)
    {
        var ns = integration.Metadata.NamespaceProperty;
        var name = integration.Metadata.Name;
        var receiver = new ObjectKey(ns, ReceiverNames.Receiver(name));
        var conflicts = new List<string>();
        await ApplyAsync(_caches.Secrets, desired.WebhookSecret, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyOptionalAsync(_caches.Secrets, desired.HarvestSecret, new ObjectKey(ns, ReceiverNames.HarvestSecret(name)), integration, conflicts, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.ConfigMaps, desired.ConfigMap, conflicts, cancellationToken).ConfigureAwait(false);
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
        var result = await _applier.ApplyAsync(desired, cache.Get(key), cancellationToken).ConfigureAwait(false);
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

    /// <summary>Writes the status when it changed; false when the write lost a conflict.</summary>
    private async Task<bool> UpdateStatusAsync(GreenhouseIntegration integration, InputProblem? problem, CancellationToken cancellationToken)
    {
        var ns = integration.Metadata.NamespaceProperty;
        var name = integration.Metadata.Name;
        var generation = integration.Metadata.Generation;
        var now = _time.GetUtcNow().UtcDateTime;
        var deployment = _caches.Deployments.Get(new ObjectKey(ns, ReceiverNames.Receiver(name)));
        var observed = integration.Status;

        var available = ReceiverAvailable(integration, deployment);
        var ready = problem is not null
            ? new Condition { Type = ConditionTypes.Ready, Status = Conditions.False, Reason = problem.Reason, Message = problem.Message }
            : available.Status == Conditions.True
                ? new Condition { Type = ConditionTypes.Ready, Status = Conditions.True, Reason = ConditionReasons.Ready, Message = $"The receiver is available; Greenhouse can post to {integration.Spec.Webhook.Endpoint}" }
                : available with { Type = ConditionTypes.Ready };

        var conditions = Conditions.Set(observed?.Conditions, available with { ObservedGeneration = generation }, now);
        conditions = Conditions.Set(conditions, ready with { ObservedGeneration = generation }, now);
        var status = new GreenhouseIntegrationStatus
        {
            ObservedGeneration = generation,
            Webhook = (observed?.Webhook ?? new WebhookStatus()) with { Url = integration.Spec.Webhook.Endpoint },
            Receiver = new ReceiverStatus
            {
                Replicas = deployment?.Status?.Replicas ?? 0,
                ReadyReplicas = deployment?.Status?.ReadyReplicas ?? 0,
                Image = deployment?.Spec?.Template?.Spec?.Containers?.FirstOrDefault()?.Image,
            },
            Conditions = conditions,
        };
        _metrics.SetReady(ObjectKey.Of(integration), ready.Status);

        if (observed is not null && ObjectComparison.HasAllFieldsOf(observed, status))
        {
            return true;
        }

        // The resourceVersion makes the patch conditional: a status computed from a stale cache is refused
        // (409) instead of overwriting newer state; the newer version's watch event queues us again.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = integration.Metadata.ResourceVersion },
            ["status"] = ObjectComparison.ToNode(status),
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
            return false;
        }

        var before = Conditions.Find(observed?.Conditions, ConditionTypes.Ready);
        // A new integration whose receiver is being created is not news: no Warning event for it.
        var firstLook = before is null && ready.Reason == ConditionReasons.Creating;
        if (!firstLook && (before?.Status != ready.Status || before.Reason != ready.Reason))
        {
            var type = ready.Status == Conditions.True ? EventRecorder.Normal : EventRecorder.Warning;
            await _events.RecordAsync(integration, type, ready.Reason!, ready.Message!, cancellationToken).ConfigureAwait(false);
            LogReadyChanged(_logger, ns, name, ready.Status, ready.Reason!);
        }

        return true;
    }

    private static Condition ReceiverAvailable(GreenhouseIntegration integration, V1Deployment? deployment)
    {
        var name = ReceiverNames.Receiver(integration.Metadata.Name);
        var ns = integration.Metadata.NamespaceProperty;
        if (integration.Spec.Suspend)
        {
            return new Condition
            {
                Type = ConditionTypes.ReceiverAvailable,
                Status = Conditions.False,
                Reason = ConditionReasons.Suspended,
                Message = "spec.suspend is true: the receiver is scaled to zero and Greenhouse deliveries fail (Greenhouse retries for about 15 hours); set spec.suspend to false to resume",
            };
        }

        // The deployment controller has not looked at it yet.
        if (deployment?.Status?.ObservedGeneration is null)
        {
            return new Condition
            {
                Type = ConditionTypes.ReceiverAvailable,
                Status = Conditions.False,
                Reason = ConditionReasons.Creating,
                Message = $"Waiting for Deployment \"{name}\" to report status",
            };
        }

        var want = deployment.Spec?.Replicas ?? 1;
        var status = deployment.Status!;
        var current = status.ObservedGeneration >= deployment.Metadata.Generation;
        var availableCondition = status.Conditions?.FirstOrDefault(c => c.Type == "Available");
        if (current && availableCondition?.Status == "True" && (status.UpdatedReplicas ?? 0) >= want && (status.AvailableReplicas ?? 0) >= want)
        {
            return new Condition
            {
                Type = ConditionTypes.ReceiverAvailable,
                Status = Conditions.True,
                Reason = ConditionReasons.Available,
                Message = $"{status.AvailableReplicas ?? 0} of {want} receiver pods available",
            };
        }

        return new Condition
        {
            Type = ConditionTypes.ReceiverAvailable,
            Status = Conditions.False,
            Reason = ConditionReasons.Progressing,
            Message = $"{status.ReadyReplicas ?? 0} of {want} receiver pods ready; see kubectl describe deployment {name} -n {ns}",
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Kind} {Key}")]
    private static partial void LogApplied(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Kind} {Key} exists and is not managed by the operator; not taking it over")]
    private static partial void LogNameConflict(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Kind} {Key}")]
    private static partial void LogDeleted(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Integration {Namespace}/{Name} Ready={Status} ({Reason})")]
    private static partial void LogReadyChanged(ILogger logger, string @namespace, string name, string status, string reason);
}
