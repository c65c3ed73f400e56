namespace Sandbox.Kubelet;

/// <summary>
/// A container of a <see cref="LocalPodInfo"/>: its process (null while not running), restarts, the log file of its
/// current (or last) run and the log file of its last terminated run (null when none).
/// </summary>
public sealed record LocalContainerInfo(string Name, int? ProcessId, int RestartCount, bool Ready, string LogPath, string? PreviousLogPath = null);
