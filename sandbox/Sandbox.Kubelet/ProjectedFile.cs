namespace Sandbox.Kubelet;

/// <summary>One file of a Secret or ConfigMap volume: relative path, content and Unix mode.</summary>
internal sealed record ProjectedFile(string Path, byte[] Content, UnixFileMode Mode);
