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

/// <summary>
/// Base of the whole-sandbox test classes: the sandbox a test started is stopped after it, whatever the
/// outcome. Each class still names <c>[Collection(WholeSandbox.Name)]</c> itself (xUnit does not inherit it).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public abstract class WholeSandboxTest : IAsyncLifetime
{
    /// <summary>The sandbox the running test started (<see cref="SandboxProcess.StartAsync"/>), if any.</summary>
    internal SandboxProcess? Sandbox { get; set; }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (Sandbox is not null)
        {
            await Sandbox.DisposeAsync();
        }
    }
}
