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
    private readonly HealthPoller? _health;
    private readonly HarvestCredentialValidator? _validator;
    private readonly ConcurrentDictionary<ObjectKey, DateTime> _statusWrittenAt = new();

    public IntegrationReconciler(IKubernetes client, OperatorCaches caches, OperatorSettings settings, EventRecorder events, TimeProvider timeProvider, ILogger<IntegrationReconciler> logger, OperatorMetrics metrics,
        HealthPoller? health = null, HarvestCredentialValidator? validator = null)
    {
        _health = health;
        _validator = validator;
        _client = client;
        _caches = caches;
        _settings = settings;
        _events = events;
        _time = timeProvider;
        _logger = logger;
        _metrics = metrics;
    }

    public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var integration = _caches.Integrations.Get(key);
        if (integration is null || integration.Metadata.DeletionTimestamp is not null)
        {
            // Owned objects go with their owner through garbage collection.
            _metrics.Forget(key);
            _validator?.Forget(key);
            _statusWrittenAt.TryRemove(key, out _);
            return ReconcileResult.Done;
        }

        var health = _health?.Get(key);
        var resolution = await ResolveAsync(integration, health, cancellationToken).ConfigureAwait(false);
        OwnedObjectApplyException? failure = null;
        if (resolution.Inputs is { } inputs)
        {
            try
            {
                await ApplyAsync(integration, DesiredStateBuilder.Build(integration, inputs, _settings), cancellationToken).ConfigureAwait(false);
            }
            catch (OwnedObjectApplyException e)
            {
                failure = e;
            }
        }

        var now = _time.GetUtcNow().UtcDateTime;
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
        });
        var (written, deferred) = await UpdateStatusAsync(integration, result, cancellationToken).ConfigureAwait(false);
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

    private async Task<Resolution> ResolveAsync(GreenhouseIntegration integration, HealthSummary? health, CancellationToken cancellationToken)
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

        ReadOnlyMemory<byte>? userSecret = null;
        if (spec.Webhook.SecretRef is { } webhookRef)
        {
            var webhookKey = webhookRef.Key ?? SecretFileNames.WebhookSecret;
            var (value, problem) = Read(ns, webhookRef.Name, webhookKey, $"key {webhookKey} (the secret key typed into Greenhouse)");
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
        var verified = health?.VerifiedSecrets ?? [];
        var now = _time.GetUtcNow().UtcDateTime;
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
            var (clientId, idProblem) = Read(ns, secretName, SecretFileNames.ClientId, keys);
            var (clientSecret, secretProblem) = Read(ns, secretName, SecretFileNames.ClientSecret, keys);
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
            var (user, userProblem) = Read(ns, basicRef.Name, SecretFileNames.BasicAuthUsername, keys);
            var (password, passwordProblem) = Read(ns, basicRef.Name, SecretFileNames.BasicAuthPassword, keys);
            if ((userProblem ?? passwordProblem) is { } problem)
            {
                return new Resolution { Problem = problem with { ConditionType = ConditionTypes.WebhookSecretReady }, Webhook = unchangedPlan };
            }

            basicAuth = new BasicAuthCredentials(user!, password!);
        }

        if (plan.Changed)
        {
            // A change decided on a cache that has not seen our last write would rotate twice: confirm against the API.
            var live = await ReadLiveAsync(ns, effectiveKey.Name, cancellationToken).ConfigureAwait(false);
            if (live?.Metadata.ResourceVersion != cached?.Metadata.ResourceVersion)
            {
                plan = WebhookSecretRotation.Plan(integration, userSecret, EffectiveWebhookSecret.From(live), verified, now, NewWebhookSecret);
            }
        }

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

        return data.TryGetValue(previousKey, out var previous) ? new ReadOnlyMemory<byte>(previous) : (ReadOnlyMemory<byte>?)null;
    }

    private (byte[]? Value, InputProblem? Problem) Read(string ns, string secret, string key, string expectedKeys)
    {
        var found = _caches.Secrets.Get(new ObjectKey(ns, secret));
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

    private async Task<V1Secret?> ReadLiveAsync(string ns, string name, CancellationToken cancellationToken)
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

    private async Task ApplyAsync(GreenhouseIntegration integration, DesiredState desired, CancellationToken cancellationToken)
    {
        var ns = integration.Metadata.NamespaceProperty;
        var name = integration.Metadata.Name;
        await ApplyAsync(_caches.Secrets, "v1", "secrets", desired.WebhookSecret, cancellationToken).ConfigureAwait(false);
        await ApplyOptionalAsync(_caches.Secrets, "v1", "secrets", desired.HarvestSecret, new ObjectKey(ns, ReceiverNames.HarvestSecret(name)), integration, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.ConfigMaps, "v1", "configmaps", desired.ConfigMap, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.ServiceAccounts, "v1", "serviceaccounts", desired.ServiceAccount, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.PersistentVolumeClaims, "v1", "persistentvolumeclaims", desired.PersistentVolumeClaim, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.Services, "v1", "services", desired.Service, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.Deployments, "apps/v1", "deployments", desired.Deployment, cancellationToken).ConfigureAwait(false);
        var receiver = new ObjectKey(ns, ReceiverNames.Receiver(name));
        await ApplyOptionalAsync(_caches.Ingresses, "networking.k8s.io/v1", "ingresses", desired.Ingress, receiver, integration, cancellationToken).ConfigureAwait(false);
        await ApplyOptionalAsync(_caches.PodDisruptionBudgets, "policy/v1", "poddisruptionbudgets", desired.PodDisruptionBudget, receiver, integration, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(_caches.NetworkPolicies, "networking.k8s.io/v1", "networkpolicies", desired.NetworkPolicy, cancellationToken).ConfigureAwait(false);
    }

    private async Task ApplyAsync<T>(InformerSet<T> cache, string apiVersion, string plural, T desired, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var key = ObjectKey.Of(desired);
        var observed = cache.Get(key);
        var removedKeys = RemovedSecretKeys(observed, desired);
        if (observed is not null && ObjectComparison.HasAllFieldsOf(observed, desired) && removedKeys.Count == 0)
        {
            return;
        }

        try
        {
            await WriteAsync(observed, desired, key, apiVersion, plural, removedKeys, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode != HttpStatusCode.Conflict)
        {
            throw new OwnedObjectApplyException($"Writing {desired.Kind} \"{key.Name}\" failed: {(int)ex.Response.StatusCode} {ApiMessage(ex)}", ex);
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

    /// <summary>
    /// Keys of an owned Secret's data the desired state no longer has (e.g. previous_secret_key after the
    /// overlap window): a merge patch removes them only when it names them with null.
    /// </summary>
    private static List<string> RemovedSecretKeys<T>(T? observed, T desired) =>
        observed is V1Secret { Data: { } had } && desired is V1Secret wanted
            ? [.. had.Keys.Where(k => wanted.Data?.ContainsKey(k) != true)]
            : [];

    private async Task WriteAsync<T>(T? observed, T desired, ObjectKey key, string apiVersion, string plural, List<string> removedKeys, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        using var client = GenericClientFor(apiVersion, plural);
        if (observed is null)
        {
            try
            {
                await client.CreateNamespacedAsync(desired, key.Namespace, cancellationToken).ConfigureAwait(false);
                LogCreated(_logger, desired.Kind, key);
                return;
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // Our cache has not seen it yet; its watch event will queue this integration again.
                return;
            }
        }

        // A merge patch sets exactly the fields we own and leaves server defaults and others' fields alone.
        var body = KubernetesJson.Serialize(desired);
        if (removedKeys.Count > 0 && JsonNode.Parse(body) is JsonObject node)
        {
            var data = node["data"] as JsonObject ?? [];
            foreach (var removed in removedKeys)
            {
                data[removed] = null;
            }

            node["data"] = data;
            body = node.ToJsonString();
        }

        var patch = new V1Patch(body, V1Patch.PatchType.MergePatch);
        await client.PatchNamespacedAsync<T>(patch, key.Namespace, key.Name, cancellationToken).ConfigureAwait(false);
        LogUpdated(_logger, desired.Kind, key);
    }

    private async Task ApplyOptionalAsync<T>(InformerSet<T> cache, string apiVersion, string plural, T? desired, ObjectKey key, GreenhouseIntegration owner, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (desired is not null)
        {
            await ApplyAsync(cache, apiVersion, plural, desired, cancellationToken).ConfigureAwait(false);
            return;
        }

        var observed = cache.Get(key);
        if (observed?.Metadata.OwnerReferences?.Any(r => r.Controller == true && r.Uid == owner.Metadata.Uid) != true)
        {
            return;
        }

        using var client = GenericClientFor(apiVersion, plural);
        try
        {
            await client.DeleteNamespacedAsync<V1Status>(key.Namespace, key.Name, cancellationToken).ConfigureAwait(false);
            LogDeleted(_logger, plural, key);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private GenericClient GenericClientFor(string apiVersion, string plural)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0
            ? new GenericClient(_client, apiVersion, plural, disposeClient: false)
            : new GenericClient(_client, apiVersion[..slash], apiVersion[(slash + 1)..], plural, disposeClient: false);
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

        if (observed is not null && ObjectComparison.HasAllFieldsOf(observed, status))
        {
            return (true, null);
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var figuresOnly = observed is not null && ObjectComparison.HasAllFieldsOf(observed with { Sync = status.Sync, Harvest = status.Harvest }, status);
        if (figuresOnly && _statusWrittenAt.TryGetValue(key, out var last) && now < last + _settings.StatusWriteInterval)
        {
            return (true, last + _settings.StatusWriteInterval - now);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Created {Kind} {Key}")]
    private static partial void LogCreated(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Updated {Kind} {Key}")]
    private static partial void LogUpdated(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Kind} {Key}")]
    private static partial void LogDeleted(ILogger logger, string kind, ObjectKey key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Integration {Namespace}/{Name} {Condition}={Status} ({Reason})")]
    private static partial void LogConditionChanged(ILogger logger, string @namespace, string name, string condition, string status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Integration {Namespace}/{Name}: webhook secret version {Version} in effect ({Trigger})")]
    private static partial void LogRotated(ILogger logger, string @namespace, string name, long version, string trigger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Integration {Namespace}/{Name}: Harvest credentials of Secret {Secret} not rolled out (token request {Outcome})")]
    private static partial void LogHarvestHeldBack(ILogger logger, string @namespace, string name, string secret, string outcome);
}
