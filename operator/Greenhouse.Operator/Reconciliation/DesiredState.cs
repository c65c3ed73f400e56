using k8s.Models;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>Every object one integration should own, as computed by <see cref="DesiredStateBuilder"/>.</summary>
public sealed record DesiredState
{
    public required V1Secret WebhookSecret { get; init; }

    public V1Secret? HarvestSecret { get; init; }

    public required V1ConfigMap ConfigMap { get; init; }

    /// <summary>The receiver pods' own identity: no role bindings; its token only lets the receiver read the cluster's service-account issuer keys.</summary>
    public required V1ServiceAccount ServiceAccount { get; init; }

    public required V1PersistentVolumeClaim PersistentVolumeClaim { get; init; }

    public required V1Deployment Deployment { get; init; }

    public required V1Service Service { get; init; }

    public V1Ingress? Ingress { get; init; }

    public V1PodDisruptionBudget? PodDisruptionBudget { get; init; }

    public required V1NetworkPolicy NetworkPolicy { get; init; }
}
