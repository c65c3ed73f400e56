using Sandbox.Greenhouse;

namespace Sandbox;

/// <summary>
/// Continuous signed webhook traffic for the sandbox (<c>POST /traffic</c>): a Greenhouse user who changes
/// one candidate after another, round-robin, at a steady rate; each change makes the simulator send
/// <c>update_candidate</c> to every configured webhook.
/// </summary>
internal sealed class SimulatedTraffic(GreenhouseSimulator simulator) : IAsyncDisposable
{
    private readonly Lock gate = new();
    private CancellationTokenSource? running;
    private Task loop = Task.CompletedTask;
    private long changes;

    public bool Running
    {
        get
        {
            lock (gate)
            {
                return running is not null;
            }
        }
    }

    /// <summary>Candidate changes made since the sandbox started.</summary>
    public long Changes => Interlocked.Read(ref changes);

    /// <summary>Starts (or restarts at the new rate) one change every <paramref name="interval"/>.</summary>
    public async Task StartAsync(TimeSpan interval)
    {
        await StopAsync().ConfigureAwait(false);
        lock (gate)
        {
            running = new CancellationTokenSource();
            loop = RunAsync(interval, running.Token);
        }
    }

    public async Task StopAsync()
    {
        Task stopping;
        lock (gate)
        {
            running?.Cancel();
            running?.Dispose();
            running = null;
            stopping = loop;
        }

        await stopping.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var ids = simulator.CandidateIds;
                if (ids.Count == 0)
                {
                    continue;
                }

                var n = Interlocked.Increment(ref changes);
                var id = ids[(int)(n % ids.Count)];
                try
                {
                    simulator.UpdateCandidate(id, c => c["title"] = $"Traffic {n}");
                }
                catch (KeyNotFoundException)
                {
                    // Deleted meanwhile; the next tick takes another.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
