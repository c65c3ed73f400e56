namespace Sandbox.Kubelet;

/// <summary>Settings of <see cref="LocalKubelet"/>.</summary>
public sealed class LocalKubeletOptions
{
    /// <summary>Folder for pods (volumes, logs) and persistent volume claims; created when missing.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Node name written into <c>spec.nodeName</c> of the pods this kubelet runs.</summary>
    public string NodeName { get; init; } = "sandbox-node";

    /// <summary>
    /// First pod IP; later pods get the next addresses. Two kubelets on one machine (parallel test runs,
    /// two sandboxes) need different ranges, or their pods' ports collide.
    /// </summary>
    public System.Net.IPAddress FirstPodAddress { get; init; } = System.Net.IPAddress.Parse("127.0.0.2");

    /// <summary>Image to command mapping; the first match wins. An image without a match cannot start (ErrImagePull).</summary>
    public IList<ImageCommand> Images { get; init; } = [];

    /// <summary>Create pods and report them Running and Ready without starting any process (operator benchmarks at scale).</summary>
    public bool StatusOnly { get; init; }

    /// <summary>Period of the level-triggered sync when no watch event arrives (processes, probes, volumes).</summary>
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>First restart delay after a container exits; doubles per restart up to <see cref="MaxRestartBackoff"/> (the real kubelet: 10 s to 5 min).</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound of the SIGTERM grace period before a process is killed (pods ask for 30 s by default).</summary>
    public TimeSpan MaxTerminationGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Extra environment for every process (e.g. DOTNET_ENVIRONMENT); the pod's own env wins.</summary>
    public IDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The API server as pods reach it (https), exported to every container as <c>KUBERNETES_SERVICE_HOST</c> and
    /// <c>KUBERNETES_SERVICE_PORT</c> like the <c>kubernetes</c> Service of a real cluster; null exports nothing.
    /// </summary>
    public Uri? ApiServer { get; init; }

    /// <summary>PEM of the API server's CA, written as <c>ca.crt</c> into each pod's ServiceAccount volume.</summary>
    public string? CertificateAuthorityPem { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
