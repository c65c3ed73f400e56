namespace Sandbox.KubeApi;

/// <summary>
/// Where <c>pods/{name}/log</c> reads container logs: the node that runs the pod (in the sandbox, the
/// local kubelet in the same process registers itself through <see cref="KubeApiServer.ContainerLogs"/>).
/// Implementations are called from request threads and must be thread-safe.
/// </summary>
public interface IContainerLogSource
{
    /// <summary>
    /// The CRI-format log file (<c>TIMESTAMP STREAM P|F TEXT</c> per line) of the container's current run, or with
    /// <paramref name="previous"/> of its last terminated run; null when there is none.
    /// </summary>
    ContainerLogFile? Find(string podNamespace, string pod, string podUid, string container, bool previous);
}
