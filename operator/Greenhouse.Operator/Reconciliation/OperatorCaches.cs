using ControllerRuntime;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// The informers the operator reads from: integrations, the kinds it owns (label-selected, so the caches hold only
/// its objects; its own Secrets included) and the Secrets integrations reference, each watched by name. No other
/// Secret of the cluster (Helm releases, tokens, certificates...) is ever listed, decoded or cached.
/// </summary>
public sealed class OperatorCaches
{
    /// <summary>Index of integrations by "namespace/secret" for every Secret they reference.</summary>
    public const string SecretReferenceIndex = "secret-references";

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
        Secrets = Set(namespaces, ns => ListWatches.For<V1Secret>(client, ns, owned));
        // A referenced Secret is watched alone (field selector metadata.name), for as long as an integration references it.
        ReferencedSecrets = new NamedInformers<V1Secret>(
            "secrets (referenced)",
            key => ListWatches.For<V1Secret>(client, key.Namespace, fieldSelector: $"metadata.name={key.Name}"),
            options with { ResyncPeriod = TimeSpan.Zero },
            timeProvider,
            loggers.CreateLogger("Informer.ReferencedSecret"),
            metrics);
        ConfigMaps = Set(namespaces, ns => ListWatches.For<V1ConfigMap>(client, ns, owned));
        ServiceAccounts = Set(namespaces, ns => ListWatches.For<V1ServiceAccount>(client, ns, owned));
        PersistentVolumeClaims = Set(namespaces, ns => ListWatches.For<V1PersistentVolumeClaim>(client, ns, owned));
        Deployments = Set(namespaces, ns => ListWatches.For<V1Deployment>(client, ns, owned));
        Services = Set(namespaces, ns => ListWatches.For<V1Service>(client, ns, owned));
        Ingresses = Set(namespaces, ns => ListWatches.For<V1Ingress>(client, ns, owned));
        PodDisruptionBudgets = Set(namespaces, ns => ListWatches.For<V1PodDisruptionBudget>(client, ns, owned));
        NetworkPolicies = Set(namespaces, ns => ListWatches.For<V1NetworkPolicy>(client, ns, owned));
        Integrations.AddIndex(SecretReferenceIndex, ReferencedSecretKeys);
        Integrations.AddHandler(e =>
        {
            if (e.Type == InformerEventType.Resync
                || (e.Type == InformerEventType.Updated && e.Previous is not null && ReferencedSecretKeys(e.Previous).SequenceEqual(ReferencedSecretKeys(e.Current))))
            {
                return;
            }

            ReferencedSecrets.Track(Integrations.IndexValues(SecretReferenceIndex).Select(ParseKey));
        });
    }

    public InformerSet<GreenhouseIntegration> Integrations { get; }

    /// <summary>The operator's own Secrets (effective webhook and Harvest Secrets).</summary>
    public InformerSet<V1Secret> Secrets { get; }

    /// <summary>The Secrets integrations reference (webhook secret, basic auth, Harvest credentials), one watch each.</summary>
    public NamedInformers<V1Secret> ReferencedSecrets { get; }

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
            Services.Informers, Ingresses.Informers, PodDisruptionBudgets.Informers, NetworkPolicies.Informers, [ReferencedSecrets],
        }.SelectMany(i => i);

    public static IEnumerable<string> ReferencedSecretKeys(GreenhouseIntegration integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var ns = integration.Metadata.NamespaceProperty;
        var spec = integration.Spec;
        string?[] names = [spec.Harvest?.CredentialsSecretRef.Name, spec.Webhook.SecretRef?.Name, spec.Webhook.BasicAuthSecretRef?.Name];
        return names.Where(n => !string.IsNullOrEmpty(n)).Select(n => $"{ns}/{n}").Distinct();
    }

    private static ObjectKey ParseKey(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        return new ObjectKey(value[..slash], value[(slash + 1)..]);
    }

    private InformerSet<T> Set<T>(IReadOnlyCollection<string> namespaces, Func<string?, ListWatch<T>> source)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        new(namespaces, ns => new Informer<T>(source(ns), _options, _time, _loggers.CreateLogger($"Informer.{typeof(T).Name}"), _metrics));
}
