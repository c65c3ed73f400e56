namespace Sandbox.Kubelet;

/// <summary>A pod the local kubelet runs, as of its last sync.</summary>
public sealed record LocalPodInfo(
    string Namespace,
    string Name,
    string Uid,
    string DeploymentName,
    string PodIp,
    string Directory,
    bool Ready,
    IReadOnlyList<LocalContainerInfo> Containers);
