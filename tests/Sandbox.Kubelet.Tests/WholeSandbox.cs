namespace Sandbox.Kubelet.Tests;

/// <summary>
/// Tests that run the whole sandbox (API emulator, simulator, operator, kubelet and receivers) go one at a
/// time: several full stacks at once on a small machine measure the machine, not the operator.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WholeSandbox
{
    public const string Name = "Sandbox";
}
