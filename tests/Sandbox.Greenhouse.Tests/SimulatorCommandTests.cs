namespace Sandbox.Greenhouse.Tests;

public sealed class SimulatorCommandTests
{
    [Fact]
    public async Task An_unknown_argument_is_refused_with_exit_code_2()
    {
        Assert.Equal(2, await SimulatorCommand.RunAsync(["--candidates", "many"], CancellationToken.None));
    }

    [Fact]
    public async Task A_webhook_url_without_its_secret_is_refused_with_exit_code_2()
    {
        Assert.Equal(2, await SimulatorCommand.RunAsync(["--webhook-url", "http://127.0.0.1:9/hook"], CancellationToken.None));
    }

    [Fact]
    public async Task The_standalone_simulator_runs_until_cancelled_and_exits_cleanly()
    {
        using var stop = new CancellationTokenSource();
        var run = SimulatorCommand.RunAsync(["--port", "0", "--candidates", "3", "--rate-limit", "20", "--rate-window-seconds", "1"], stop.Token);
        Assert.False(run.IsCompleted);

        await stop.CancelAsync();

        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
