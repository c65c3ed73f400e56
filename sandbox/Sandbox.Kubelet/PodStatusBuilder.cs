using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>A local pod's status as a kubelet reports it: phase, IPs, conditions and container statuses.</summary>
internal static class PodStatusBuilder
{
    public static V1PodStatus Build(LocalPod pod, bool statusOnly, DateTimeOffset now)
    {
        var ready = pod.Ready(statusOnly);
        if (pod.ReadyTransition is not { } transition || transition.Ready != ready)
        {
            pod.ReadyTransition = (ready, now);
        }

        var since = Time(pod.ReadyTransition.Value.Since);
        var created = Time(pod.CreatedAt);
        var readyText = ready ? "True" : "False";
        var started = statusOnly || pod.Containers.Any(c => c.StartedAt is not null);
        var ip = pod.Address.ToString();
        return new V1PodStatus
        {
            Phase = started ? "Running" : "Pending",
            HostIP = "127.0.0.1",
            HostIPs = [new V1HostIP { Ip = "127.0.0.1" }],
            PodIP = ip,
            PodIPs = [new V1PodIP { Ip = ip }],
            StartTime = created,
            QosClass = "Burstable",
            Conditions =
            [
                new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = created },
                new V1PodCondition { Type = "Initialized", Status = "True", LastTransitionTime = created },
                new V1PodCondition { Type = "ContainersReady", Status = readyText, LastTransitionTime = since, Reason = ready ? null : "ContainersNotReady" },
                new V1PodCondition { Type = "Ready", Status = readyText, LastTransitionTime = since, Reason = ready ? null : "ContainersNotReady" },
            ],
            ContainerStatuses = pod.Containers.Select(c => Container(pod, c, statusOnly, created)).ToList(),
        };
    }

    private static V1ContainerStatus Container(LocalPod pod, LocalContainer container, bool statusOnly, DateTime created)
    {
        var status = new V1ContainerStatus
        {
            Name = container.Spec.Name,
            Image = container.Spec.Image,
            ImageID = "",
            RestartCount = container.RestartCount,
            Ready = statusOnly || container.Ready,
            Started = statusOnly || container.Running,
            ContainerID = container.ProcessId is { } pid ? $"local://{pid}" : null,
        };
        if (statusOnly)
        {
            status.State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = created } };
            return status;
        }

        if (container.Running)
        {
            status.State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = Time(container.StartedAt!.Value) } };
        }
        else
        {
            var (reason, message) = container.Waiting ?? pod.SetupProblem ?? ("ContainerCreating", "");
            status.State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message.Length == 0 ? null : message } };
        }

        if (container.LastExitCode is { } exitCode)
        {
            status.LastState = new V1ContainerState
            {
                Terminated = new V1ContainerStateTerminated
                {
                    ExitCode = exitCode,
                    Reason = exitCode == 0 ? "Completed" : "Error",
                    FinishedAt = Time(container.LastFinishedAt!.Value),
                },
            };
        }

        return status;
    }

    // metav1.Time has whole seconds.
    internal static DateTime Time(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
}
