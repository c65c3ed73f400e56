using Microsoft.Extensions.Hosting;

namespace Sandbox.Greenhouse;

/// <summary>
/// The simulator's web host is embedded in tests and in the sandbox, whose own host owns Ctrl+C and
/// SIGTERM. The default console lifetime would take those signals over and keep the process alive.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
