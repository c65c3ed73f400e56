namespace Sandbox.KubeApi.Tests;

/// <summary>Starts one emulator per test (milliseconds) with a raw HTTP client on it; derived classes add their arrangement.</summary>
public abstract class EmulatorTest : IAsyncLifetime
{
    protected KubeApiServer Server { get; private set; } = null!;

    protected HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await KubeApiServer.StartAsync();
        Http = TestClients.Http(Server);
        await ArrangeAsync();
    }

    public async Task DisposeAsync()
    {
        await CleanUpAsync();
        Http.Dispose();
        await Server.DisposeAsync();
    }

    protected virtual Task ArrangeAsync() => Task.CompletedTask;

    protected virtual Task CleanUpAsync() => Task.CompletedTask;
}
