using System.Text.Json;

namespace Greenhouse.Receiver.Tests;

/// <summary>
/// The runtime settings the receiver ships with, read from the runtimeconfig.json its build writes
/// next to Greenhouse.Receiver.dll (the file its image starts with, and the one the bench's ingest
/// section runs under).
/// </summary>
public sealed class RuntimeConfigurationTests
{
    [Fact]
    public void The_receiver_runs_with_server_GC_not_tied_to_cores_and_thread_pool_workers_that_do_not_spin()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Greenhouse.Receiver.runtimeconfig.json");
        Assert.True(File.Exists(path), $"{path} is written by the receiver's build");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(properties.GetProperty("System.GC.Server").GetBoolean());
        // Several receivers (one per integration) share a node's cores: no collection thread waits for one core.
        Assert.True(properties.GetProperty("System.GC.NoAffinitize").GetBoolean());
        // Spinning workers took the cores from the threads with work on a one- or two-core pod.
        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}
