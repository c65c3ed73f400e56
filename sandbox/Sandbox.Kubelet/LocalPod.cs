using System.Net;
using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>A pod this kubelet created: its address, folder, volumes and containers.</summary>
internal sealed class LocalPod
{
    public LocalPod(V1Pod pod, string deploymentUid, string templateHash, IPAddress address, string directory, PodVolumes? volumes)
    {
        Pod = pod;
        DeploymentUid = deploymentUid;
        TemplateHash = templateHash;
        Address = address;
        Directory = directory;
        Volumes = volumes;
        Containers = pod.Spec.Containers
            .Select(c =>
            {
                var container = new LocalContainer(c, Path.Combine(directory, "logs", c.Name));
                if (c.ReadinessProbe is { } readiness)
                {
                    container.Readiness = new ContainerProbe(readiness, c, address.ToString(), eagerUntilFirstSuccess: true);
                }

                if (c.LivenessProbe is { } liveness)
                {
                    container.Liveness = new ContainerProbe(liveness, c, address.ToString(), eagerUntilFirstSuccess: false);
                }

                return container;
            })
            .ToList();
    }

    /// <summary>The pod as created in the API server (uid, name, labels, spec).</summary>
    public V1Pod Pod { get; }

    public string Key => Pod.Uid();

    public string DeploymentUid { get; }

    public string DeploymentName { get; init; } = "";

    public string TemplateHash { get; }

    public IPAddress Address { get; }

    public string Directory { get; }

    /// <summary>Null in status-only mode.</summary>
    public PodVolumes? Volumes { get; }

    /// <summary>The projected ServiceAccount token volume; null in status-only mode.</summary>
    public ServiceAccountVolume? ServiceAccount { get; init; }

    public IReadOnlyList<LocalContainer> Containers { get; }

    /// <summary>Why the pod's volumes or environment could not be set up on the last try.</summary>
    public (string Reason, string Message)? SetupProblem { get; set; }

    /// <summary>The status JSON last written, to write only changes.</summary>
    public string? WrittenStatus { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Readiness as last reported and when it last changed (the Ready condition's lastTransitionTime).</summary>
    public (bool Ready, DateTimeOffset Since)? ReadyTransition { get; set; }

    public bool Ready(bool statusOnly) => statusOnly || Containers.All(c => c.Ready);
}
