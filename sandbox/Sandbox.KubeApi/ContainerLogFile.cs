namespace Sandbox.KubeApi;

/// <summary>A container run's log file and whether that run is still writing to it (a follow ends when it stops).</summary>
public sealed record ContainerLogFile(string Path, bool Running);
