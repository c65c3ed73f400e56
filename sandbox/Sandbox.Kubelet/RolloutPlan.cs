using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>
/// What a Deployment's pods need next, as the deployment controller decides it for one ReplicaSet
/// pair: how many pods of the current template to create and which pods to delete. RollingUpdate
/// keeps at most <c>replicas + maxSurge</c> pods and at least <c>replicas - maxUnavailable</c> ready
/// ones; Recreate deletes every old pod before creating new ones. Pure, so it is tested on its own.
/// </summary>
internal static class RolloutPlan
{
    internal sealed record PodState(string Id, bool Current, bool Ready, DateTimeOffset CreatedAt);

    internal sealed record Decision(int Create, IReadOnlyList<string> Delete);

    public static Decision Decide(V1DeploymentSpec spec, IReadOnlyList<PodState> pods, bool deploymentDeleting)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(pods);
        var desired = deploymentDeleting ? 0 : spec.Replicas ?? 1;
        var current = pods.Where(p => p.Current).ToList();
        var old = pods.Where(p => !p.Current).ToList();
        var delete = new List<string>();

        // Scale-down order of the ReplicaSet controller: not-ready first, then the newest.
        static IEnumerable<PodState> ScaleDownOrder(IEnumerable<PodState> candidates) =>
            candidates.OrderBy(p => p.Ready).ThenByDescending(p => p.CreatedAt);

        if (current.Count > desired)
        {
            var extra = ScaleDownOrder(current).Take(current.Count - desired).ToList();
            delete.AddRange(extra.Select(p => p.Id));
            current = current.Except(extra).ToList();
        }

        if (string.Equals(spec.Strategy?.Type, "Recreate", StringComparison.Ordinal))
        {
            if (old.Count > 0)
            {
                delete.AddRange(old.Select(p => p.Id));
                return new Decision(0, delete);
            }

            return new Decision(desired - current.Count, delete);
        }

        var (surge, unavailable) = Budget(spec, desired);
        var create = old.Count == 0
            ? desired - current.Count
            : Math.Min(desired - current.Count, desired + surge - (current.Count + old.Count));

        var ready = current.Count(p => p.Ready) + old.Count(p => p.Ready);
        var minimumReady = desired - unavailable;
        foreach (var pod in ScaleDownOrder(old))
        {
            // Old pods go once enough current ones exist to replace them, never below the availability floor.
            if (pod.Ready && ready - 1 < minimumReady)
            {
                continue;
            }

            delete.Add(pod.Id);
            if (pod.Ready)
            {
                ready--;
            }
        }

        return new Decision(Math.Max(0, create), delete);
    }

    internal static (int Surge, int Unavailable) Budget(V1DeploymentSpec spec, int desired)
    {
        var rolling = spec.Strategy?.RollingUpdate;
        var surge = Resolve(rolling?.MaxSurge, desired, roundUp: true);
        var unavailable = Resolve(rolling?.MaxUnavailable, desired, roundUp: false);
        // Both zero is rejected by the real API server; take a surge of one rather than stall.
        return surge == 0 && unavailable == 0 ? (1, 0) : (surge, unavailable);
    }

    private static int Resolve(IntOrString? value, int desired, bool roundUp)
    {
        var text = value?.Value ?? "25%";
        if (text.EndsWith('%'))
        {
            var share = desired * int.Parse(text[..^1], System.Globalization.CultureInfo.InvariantCulture) / 100.0;
            return (int)(roundUp ? Math.Ceiling(share) : Math.Floor(share));
        }

        return int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }
}
