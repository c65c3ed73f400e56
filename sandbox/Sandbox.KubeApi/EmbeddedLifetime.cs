using Microsoft.Extensions.Hosting;

namespace Sandbox.KubeApi;

/// <summary>
/// The emulator lives inside a test or a larger program: it must not take over Ctrl-C or SIGTERM the way the
/// default console lifetime does. Whoever owns the <see cref="KubeApiServer"/> stops it by disposing it.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
