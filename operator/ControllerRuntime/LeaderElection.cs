using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;

namespace ControllerRuntime;

/// <summary>
/// Runs work only while this replica holds a coordination.k8s.io/v1 Lease (KubernetesClient's
/// <see cref="LeaderElector"/>). Losing the lease cancels the work and waits for it to stop before
/// campaigning again, so two replicas never work at the same time (as long as the work stops within
/// LeaseDuration - RenewDeadline).
/// </summary>
public sealed partial class LeaderElection
{
    private readonly IKubernetes _client;
    private readonly LeaderElectionOptions _options;
    private readonly ILogger _logger;
    private readonly ControllerMetrics? _metrics;
    private volatile bool _isLeader;

    public LeaderElection(IKubernetes client, LeaderElectionOptions options, ILogger logger, ControllerMetrics? metrics = null)
    {
        _client = client;
        _options = options;
        _logger = logger;
        _metrics = metrics;
    }

    public bool IsLeader => _isLeader;

    /// <summary>Raised with true when this replica starts leading and false when it stops (or never started and gives up).</summary>
    public event EventHandler<bool>? LeadershipChanged;

    public async Task RunAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(whileLeading);
        _metrics?.LeaderStatus.WithLabels(_options.LeaseName).Set(0);
        while (!cancellationToken.IsCancellationRequested)
        {
            var config = new LeaderElectionConfig(new LeaseLock(_client, _options.LeaseNamespace, _options.LeaseName, _options.Identity))
            {
                LeaseDuration = _options.LeaseDuration,
                RenewDeadline = _options.RenewDeadline,
                RetryPeriod = _options.RetryPeriod,
            };
            using var elector = new LeaderElector(config);
            using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task? work = null;
            elector.OnStartedLeading += () =>
            {
                SetLeader(true);
                LogStartedLeading(_logger, _options.Identity, _options.LeaseName);
                work = Task.Run(() => whileLeading(leading.Token), CancellationToken.None);
            };
            elector.OnStoppedLeading += () =>
            {
                SetLeader(false);
                leading.Cancel();
            };
            elector.OnError += ex => LogElectionError(_logger, ex, _options.LeaseName);

            try
            {
                await elector.RunUntilLeadershipLostAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            finally
            {
                SetLeader(false);
                await leading.CancelAsync().ConfigureAwait(false);
                if (work is not null)
                {
                    LogStoppedLeading(_logger, _options.Identity, _options.LeaseName);
                    await work.ConfigureAwait(false);
                }
            }
        }
    }

    private void SetLeader(bool leader)
    {
        var changed = _isLeader != leader;
        _isLeader = leader;
        _metrics?.LeaderStatus.WithLabels(_options.LeaseName).Set(leader ? 1 : 0);
        if (changed)
        {
            LeadershipChanged?.Invoke(this, leader);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} became leader on lease {Lease}")]
    private static partial void LogStartedLeading(ILogger logger, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} stopped leading on lease {Lease}")]
    private static partial void LogStoppedLeading(ILogger logger, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leader election on lease {Lease} failed")]
    private static partial void LogElectionError(ILogger logger, Exception exception, string lease);
}
