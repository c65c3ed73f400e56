namespace Sandbox.Kubelet;

/// <summary>A pod cannot start yet (a missing Secret, an unknown image); the reason is shown in its container status.</summary>
internal sealed class PodSetupException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}
