namespace Sandbox.Kubelet;

/// <summary>A container of a <see cref="LocalPodInfo"/>: its process (null while not running), restarts and log file.</summary>
public sealed record LocalContainerInfo(string Name, int? ProcessId, int RestartCount, bool Ready, string LogPath);
