using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>
/// <see cref="ListWatch{T}"/> factories for the kinds controllers usually own, each for one namespace
/// or (with a null namespace) all namespaces, optionally restricted by a label selector.
/// </summary>
public static class ListWatches
{
    public static ListWatch<T> CustomResource<T>(IKubernetes client, string group, string version, string plural, string? ns, string? labelSelector = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<T>(
            plural,
            async ct =>
            {
                var list = ns is null
                    ? await client.CustomObjects.ListCustomObjectForAllNamespacesAsync<CustomResourceList<T>>(group, version, plural, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                    : await client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList<T>>(group, version, ns, plural, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items ?? [], list.Metadata?.ResourceVersion ?? "");
            },
            (rv, timeout, onError, ct) => Typed<T>(ns is null
                ? client.CustomObjects.WatchListCustomObjectForAllNamespacesAsync(group, version, plural, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.CustomObjects.WatchListNamespacedCustomObjectAsync(group, version, ns, plural, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct), ct));
    }

    public static ListWatch<V1Secret> Secrets(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1Secret>(
            "secrets",
            async ct => Result(ns is null
                ? await client.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.CoreV1.WatchListSecretForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.CoreV1.WatchListNamespacedSecretAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    public static ListWatch<V1ConfigMap> ConfigMaps(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1ConfigMap>(
            "configmaps",
            async ct => Result(ns is null
                ? await client.CoreV1.ListConfigMapForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.CoreV1.WatchListConfigMapForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.CoreV1.WatchListNamespacedConfigMapAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    public static ListWatch<V1ServiceAccount> ServiceAccounts(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1ServiceAccount>(
            "serviceaccounts",
            async ct => Result(ns is null
                ? await client.CoreV1.ListServiceAccountForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.CoreV1.ListNamespacedServiceAccountAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.CoreV1.WatchListNamespacedServiceAccountAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    public static ListWatch<V1Service> Services(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1Service>(
            "services",
            async ct => Result(ns is null
                ? await client.CoreV1.ListServiceForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.CoreV1.ListNamespacedServiceAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.CoreV1.WatchListNamespacedServiceAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    public static ListWatch<V1PersistentVolumeClaim> PersistentVolumeClaims(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1PersistentVolumeClaim>(
            "persistentvolumeclaims",
            async ct => Result(ns is null
                ? await client.CoreV1.ListPersistentVolumeClaimForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.CoreV1.WatchListPersistentVolumeClaimForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.CoreV1.WatchListNamespacedPersistentVolumeClaimAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    public static ListWatch<V1Deployment> Deployments(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1Deployment>(
            "deployments",
            async ct => Result(ns is null
                ? await client.AppsV1.ListDeploymentForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.AppsV1.WatchListDeploymentForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.AppsV1.WatchListNamespacedDeploymentAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    public static ListWatch<V1Ingress> Ingresses(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1Ingress>(
            "ingresses",
            async ct => Result(ns is null
                ? await client.NetworkingV1.ListIngressForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.NetworkingV1.ListNamespacedIngressAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.NetworkingV1.WatchListIngressForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.NetworkingV1.WatchListNamespacedIngressAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    public static ListWatch<V1NetworkPolicy> NetworkPolicies(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1NetworkPolicy>(
            "networkpolicies",
            async ct => Result(ns is null
                ? await client.NetworkingV1.ListNetworkPolicyForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.NetworkingV1.ListNamespacedNetworkPolicyAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.NetworkingV1.WatchListNetworkPolicyForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.NetworkingV1.WatchListNamespacedNetworkPolicyAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    public static ListWatch<V1PodDisruptionBudget> PodDisruptionBudgets(IKubernetes client, string? ns, string? labelSelector = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ListWatch<V1PodDisruptionBudget>(
            "poddisruptionbudgets",
            async ct => Result(ns is null
                ? await client.PolicyV1.ListPodDisruptionBudgetForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                : await client.PolicyV1.ListNamespacedPodDisruptionBudgetAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => ns is null
                ? client.PolicyV1.WatchListPodDisruptionBudgetForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.PolicyV1.WatchListNamespacedPodDisruptionBudgetAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct));
    }

    private static (IList<T> Items, string ResourceVersion) Result<T>(IItems<T> list) =>
        (list.Items ?? [], ((IMetadata<V1ListMeta>)list).Metadata?.ResourceVersion ?? "");

    private static int Seconds(TimeSpan timeout) => Math.Max(1, (int)timeout.TotalSeconds);

    // The custom-object watch yields untyped JSON; convert each object to the entity type.
    private static async IAsyncEnumerable<(WatchEventType Type, T Object)> Typed<T>(
        IAsyncEnumerable<(WatchEventType Type, object Object)> events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (type, obj) in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var typed = obj switch
            {
                T already => already,
                JsonElement element => KubernetesJson.Deserialize<T>(element),
                _ => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(obj)),
            };
            yield return (type, typed);
        }
    }
}
