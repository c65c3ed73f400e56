using ControllerRuntime;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// The informers the operator reads from: integrations, all Secrets of the watched namespaces (users'
/// Secrets are inputs) and the kinds it owns (label-selected, so the caches hold only its objects).
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
        Integrations = Set(namespaces, ns => ListWatches.CustomResource<GreenhouseIntegration>(client, GreenhouseIntegration.Group, GreenhouseIntegration.Version, GreenhouseIntegration.Plural, ns));
        Secrets = Set(namespaces, ns => ListWatches.Secrets(client, ns));
        ConfigMaps = Set(namespaces, ns => ListWatches.ConfigMaps(client, ns, owned));
        ServiceAccounts = Set(namespaces, ns => ListWatches.ServiceAccounts(client, ns, owned));
        PersistentVolumeClaims = Set(namespaces, ns => ListWatches.PersistentVolumeClaims(client, ns, owned));
        Deployments = Set(namespaces, ns => ListWatches.Deployments(client, ns, owned));
        Services = Set(namespaces, ns => ListWatches.Services(client, ns, owned));
        Ingresses = Set(namespaces, ns => ListWatches.Ingresses(client, ns, owned));
        PodDisruptionBudgets = Set(namespaces, ns => ListWatches.PodDisruptionBudgets(client, ns, owned));
        NetworkPolicies = Set(namespaces, ns => ListWatches.NetworkPolicies(client, ns, owned));
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
