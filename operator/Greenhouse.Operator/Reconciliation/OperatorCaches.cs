using ControllerRuntime;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// The informers the operator reads from: integrations, the Secrets of the watched namespaces (with data only for
/// the operator's own and the referenced ones) and the kinds it owns (label-selected, so the caches hold only its objects).
/// </summary>
public sealed class OperatorCaches
{
    /// <summary>Index of integrations by "namespace/secret" for every Secret they reference.</summary>
    public const string SecretReferenceIndex = "secret-references";

    // Only ever on the cache's local copy, never written.
    private const string WithoutDataMarker = "greenhouse.resource.io/cached-without-data";

    private readonly InformerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ControllerMetrics _metrics;

    public OperatorCaches(IKubernetes client, IReadOnlyCollection<string> namespaces, InformerOptions options, TimeProvider timeProvider, ILoggerFactory loggers, ControllerMetrics metrics)
    {
        _options = options;
        _time = timeProvider;
        _loggers = loggers;
        _metrics = metrics;
        var owned = $"{ResourceLabels.ManagedBy}={ResourceLabels.OperatorName}";
        Integrations = Set(namespaces, ns => ListWatches.For<GreenhouseIntegration>(client, ns));
        // Secrets: every Secret's metadata (to notice changes), but the data only of the operator's own Secrets and of
        // those an integration references; the rest (Helm releases, tokens, certificates...) are cached without data.
        Secrets = Set(namespaces, ns => ListWatches.For<V1Secret>(client, ns, transform: KeepDataIfNeeded, wholeObject: NeedsData));
        ConfigMaps = Set(namespaces, ns => ListWatches.For<V1ConfigMap>(client, ns, owned));
        ServiceAccounts = Set(namespaces, ns => ListWatches.For<V1ServiceAccount>(client, ns, owned));
        PersistentVolumeClaims = Set(namespaces, ns => ListWatches.For<V1PersistentVolumeClaim>(client, ns, owned));
        Deployments = Set(namespaces, ns => ListWatches.For<V1Deployment>(client, ns, owned));
        Services = Set(namespaces, ns => ListWatches.For<V1Service>(client, ns, owned));
        Ingresses = Set(namespaces, ns => ListWatches.For<V1Ingress>(client, ns, owned));
        PodDisruptionBudgets = Set(namespaces, ns => ListWatches.For<V1PodDisruptionBudget>(client, ns, owned));
        NetworkPolicies = Set(namespaces, ns => ListWatches.For<V1NetworkPolicy>(client, ns, owned));
        Integrations.AddIndex(SecretReferenceIndex, ReferencedSecrets);
    }

    public InformerSet<GreenhouseIntegration> Integrations { get; }

    public InformerSet<V1Secret> Secrets { get; }

    public InformerSet<V1ConfigMap> ConfigMaps { get; }

    public InformerSet<V1ServiceAccount> ServiceAccounts { get; }

    public InformerSet<V1PersistentVolumeClaim> PersistentVolumeClaims { get; }

    public InformerSet<V1Deployment> Deployments { get; }

    public InformerSet<V1Service> Services { get; }

    public InformerSet<V1Ingress> Ingresses { get; }

    public InformerSet<V1PodDisruptionBudget> PodDisruptionBudgets { get; }

    public InformerSet<V1NetworkPolicy> NetworkPolicies { get; }

    public IEnumerable<IInformer> All =>
        new IEnumerable<IInformer>[]
        {
            Integrations.Informers, Secrets.Informers, ConfigMaps.Informers, ServiceAccounts.Informers, PersistentVolumeClaims.Informers, Deployments.Informers,
            Services.Informers, Ingresses.Informers, PodDisruptionBudgets.Informers, NetworkPolicies.Informers,
        }.SelectMany(i => i);

    /// <summary>True for a cached Secret whose data was left out (read it by name when it is needed).</summary>
    public static bool WithoutData(V1Secret secret) =>
        secret?.Metadata.Annotations?.ContainsKey(WithoutDataMarker) == true;

    private bool NeedsData(V1ObjectMeta metadata) =>
        (metadata.Labels is { } labels && labels.TryGetValue(ResourceLabels.ManagedBy, out var manager) && manager == ResourceLabels.OperatorName)
        || Integrations.ByIndex(SecretReferenceIndex, $"{metadata.NamespaceProperty}/{metadata.Name}").Count > 0;

    private V1Secret KeepDataIfNeeded(V1Secret secret)
    {
        if (NeedsData(secret.Metadata))
        {
            return secret;
        }

        secret.Data = null;
        secret.StringData = null;
        secret.Metadata.ManagedFields = null;
        secret.Metadata.Annotations = new Dictionary<string, string> { [WithoutDataMarker] = "true" };
        return secret;
    }

    public static IEnumerable<string> ReferencedSecrets(GreenhouseIntegration integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var ns = integration.Metadata.NamespaceProperty;
        var spec = integration.Spec;
        string?[] names = [spec.Harvest?.CredentialsSecretRef.Name, spec.Webhook.SecretRef?.Name, spec.Webhook.BasicAuthSecretRef?.Name];
        return names.Where(n => !string.IsNullOrEmpty(n)).Select(n => $"{ns}/{n}").Distinct();
    }

    private InformerSet<T> Set<T>(IReadOnlyCollection<string> namespaces, Func<string?, ListWatch<T>> source)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        new(namespaces, ns => new Informer<T>(source(ns), _options, _time, _loggers.CreateLogger($"Informer.{typeof(T).Name}"), _metrics));
}
