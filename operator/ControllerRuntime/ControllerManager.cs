using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ControllerRuntime;

/// <summary>
/// Runs informers (always, so standby replicas keep warm caches) and controllers (only once the
/// caches have synced and, with leader election, only while leading). An informer that stops with an
/// error is restarted with backoff; until it has listed again it is reported by
/// <see cref="FailedInformers"/> (readiness) and counted in <c>greenhouse_operator_informer_restarts_total</c>.
/// Cancelling the token stops controllers gracefully, then the informers.
/// </summary>
public sealed partial class ControllerManager
{
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(30);

    private readonly List<IInformer> _informers = [];
    private readonly List<Controller> _controllers = [];
    private readonly ConcurrentDictionary<IInformer, long> _failed = new();
    private readonly LeaderElection? _leaderElection;
    private readonly ILogger _logger;
    private readonly ControllerMetrics? _metrics;

    public ControllerManager(ILogger logger, LeaderElection? leaderElection = null, ControllerMetrics? metrics = null)
    {
        _logger = logger;
        _leaderElection = leaderElection;
        _metrics = metrics;
    }

    /// <summary>True once every informer has loaded its first list.</summary>
    public bool HasSynced => _informers.All(i => i.HasSynced);

    /// <summary>Informers that stopped with an error and have not listed again since.</summary>
    public IReadOnlyList<string> FailedInformers =>
        [.. _failed.Where(f => f.Key.ListCount <= f.Value).Select(f => f.Key.Resource).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>True while controllers may write (always without leader election).</summary>
    public bool IsLeader => _leaderElection?.IsLeader ?? true;

    public void Add(IInformer informer) => _informers.Add(informer);

    public void Add(Controller controller) => _controllers.Add(controller);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var informersStop = new CancellationTokenSource();
        var informers = _informers.Select(i => Task.Run(() => SuperviseAsync(i, informersStop.Token), CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(_informers.Select(i => i.WaitForSyncAsync(cancellationToken))).ConfigureAwait(false);

            LogSynced(_logger, _informers.Count);
            if (_leaderElection is null)
            {
                await RunControllersAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _leaderElection.RunAsync(RunControllersAsync, cancellationToken).ConfigureAwait(false);
            }

            // The caches stay up until the manager is stopped, whatever the controllers do.
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await informersStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(informers).ConfigureAwait(false);
        }
    }

    private async Task SuperviseAsync(IInformer informer, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await informer.RunAsync(cancellationToken).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                throw new InvalidOperationException($"the {informer.Resource} informer returned before it was stopped");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failures++;
                _failed[informer] = informer.ListCount;
                _metrics?.InformerRestarts.WithLabels(informer.Resource).Inc();
                var delay = TimeSpan.FromSeconds(Math.Min(MaxRestartDelay.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 10)) * 0.5));
                LogInformerFailed(_logger, ex, informer.Resource, delay);
                try
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private Task RunControllersAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_controllers.Select(c => c.RunAsync(cancellationToken)));

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} informers synced; starting controllers")]
    private static partial void LogSynced(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The {Resource} informer stopped with an error; restarting it in {Delay}")]
    private static partial void LogInformerFailed(ILogger logger, Exception exception, string resource, TimeSpan delay);
}
