using Microsoft.Extensions.Logging;

namespace ControllerRuntime;

/// <summary>
/// Runs informers (always, so standby replicas keep warm caches) and controllers (only once the
/// caches have synced and, with leader election, only while leading). Cancelling the token stops
/// controllers gracefully, then the informers.
/// </summary>
public sealed partial class ControllerManager
{
    private readonly List<IInformer> _informers = [];
    private readonly List<Controller> _controllers = [];
    private readonly LeaderElection? _leaderElection;
    private readonly ILogger _logger;

    public ControllerManager(ILogger logger, LeaderElection? leaderElection = null)
    {
        _logger = logger;
        _leaderElection = leaderElection;
    }

    /// <summary>True once every informer has loaded its first list.</summary>
    public bool HasSynced => _informers.All(i => i.HasSynced);

    /// <summary>True while controllers may write (always without leader election).</summary>
    public bool IsLeader => _leaderElection?.IsLeader ?? true;

    public void Add(IInformer informer) => _informers.Add(informer);

    public void Add(Controller controller) => _controllers.Add(controller);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var informersStop = new CancellationTokenSource();
        var informers = _informers.Select(i => Task.Run(() => i.RunAsync(informersStop.Token), CancellationToken.None)).ToArray();
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

    private Task RunControllersAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_controllers.Select(c => c.RunAsync(cancellationToken)));

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} informers synced; starting controllers")]
    private static partial void LogSynced(ILogger logger, int count);
}
