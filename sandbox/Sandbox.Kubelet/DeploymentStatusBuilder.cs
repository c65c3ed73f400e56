using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>A Deployment's status as the deployment controller reports it, from the pods this node runs for it.</summary>
internal static class DeploymentStatusBuilder
{
    public static V1DeploymentStatus Build(V1Deployment deployment, string templateHash, IReadOnlyList<LocalPod> pods, bool statusOnly, DateTimeOffset now)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var updated = pods.Count(p => p.TemplateHash == templateHash);
        var ready = pods.Count(p => p.Ready(statusOnly));
        var (_, maxUnavailable) = RolloutPlan.Budget(deployment.Spec, desired);
        var available = ready >= desired - maxUnavailable;
        var complete = updated == desired && pods.Count == desired && ready == desired;
        var replicaSet = $"{deployment.Name()}-{templateHash}";
        var previous = deployment.Status?.Conditions ?? [];
        return new V1DeploymentStatus
        {
            ObservedGeneration = deployment.Metadata.Generation,
            Replicas = NullIfZero(pods.Count),
            UpdatedReplicas = NullIfZero(updated),
            ReadyReplicas = NullIfZero(ready),
            AvailableReplicas = NullIfZero(ready),
            UnavailableReplicas = NullIfZero(Math.Max(0, desired - ready)),
            Conditions =
            [
                Condition(previous, "Available", available, available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                    available ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now),
                Condition(previous, "Progressing", true, complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                    complete ? $"ReplicaSet \"{replicaSet}\" has successfully progressed." : $"ReplicaSet \"{replicaSet}\" is progressing.", now),
            ],
        };
    }

    private static int? NullIfZero(int value) => value == 0 ? null : value;

    // Times move only when the condition changes, so an unchanged status is not written again.
    private static V1DeploymentCondition Condition(IList<V1DeploymentCondition> previous, string type, bool status, string reason, string message, DateTimeOffset now)
    {
        var statusText = status ? "True" : "False";
        var before = previous.FirstOrDefault(c => c.Type == type);
        var time = PodStatusBuilder.Time(now);
        return new V1DeploymentCondition
        {
            Type = type,
            Status = statusText,
            Reason = reason,
            Message = message,
            LastTransitionTime = before?.Status == statusText ? before.LastTransitionTime : time,
            LastUpdateTime = before?.Status == statusText && before.Reason == reason && before.Message == message ? before.LastUpdateTime : time,
        };
    }
}
