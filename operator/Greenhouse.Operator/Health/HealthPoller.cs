using System.Collections.Concurrent;
using ControllerRuntime;
using Greenhouse.Contracts;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Reconciliation;
using Grpc.Core;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Operator.Health;

/// <summary>
/// Polls every ready receiver pod's SyncHealth on a jittered interval (one loop for all integrations,
/// bounded concurrency, a short deadline per call), keeps the aggregated <see cref="HealthSummary"/>
/// per integration and raises <see cref="Changed"/> only when a summary says something new, so an
/// idle integration is not reconciled (and its status not written) because of polling.
/// </summary>
public sealed partial class HealthPoller
{
    private readonly IKubernetes _client;
    private readonly OperatorCaches _caches;
    private readonly IReceiverHealthClient _health;
    private readonly OperatorSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ObjectKey, HealthSummary> _summaries = new();

    public HealthPoller(IKubernetes client, OperatorCaches caches, IReceiverHealthClient health, OperatorSettings settings, TimeProvider timeProvider, ILogger<HealthPoller> logger)
    {
        _client = client;
        _caches = caches;
        _health = health;
        _settings = settings;
        _time = timeProvider;
        _logger = logger;
    }

    /// <summary>Raised with the integration whose summary changed (or appeared, or went away).</summary>
    public event Action<ObjectKey>? Changed;

    /// <summary>Polling rounds completed (benchmarks and tests).</summary>
    public long Rounds { get; private set; }

    public HealthSummary? Get(ObjectKey key) => _summaries.GetValueOrDefault(key);

    /// <summary>Polls until cancelled; rounds run only while <paramref name="active"/> (leader, caches synced).</summary>
    public async Task RunAsync(Func<bool> active, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(active);
        var delay = TimeSpan.FromMilliseconds(Math.Min(1000, _settings.HealthPollInterval.TotalMilliseconds));
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!active())
            {
                delay = TimeSpan.FromMilliseconds(Math.Min(1000, _settings.HealthPollInterval.TotalMilliseconds));
                continue;
            }

            try
            {
                await PollOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or TimeoutException)
            {
                LogRoundFailed(_logger, e.GetType().Name, e.Message);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            // ±10 % jitter so many operators (or many integrations after a restart) do not poll in lockstep.
            delay = _settings.HealthPollInterval * (0.9 + (0.2 * Random.Shared.NextDouble()));
        }
    }

    /// <summary>One round over all integrations with a receiver Deployment.</summary>
    public async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        var pods = await ListReceiverPodsAsync(cancellationToken).ConfigureAwait(false);
        var byIntegration = pods
            .Where(IsReady)
            .GroupBy(p => new ObjectKey(p.Metadata.NamespaceProperty, p.Metadata.Labels![ResourceLabels.Instance]))
            .ToDictionary(g => g.Key, g => g.ToList());

        using var gate = new SemaphoreSlim(_settings.HealthPollConcurrency);
        var now = _time.GetUtcNow().UtcDateTime;
        var rounds = new List<Task<(ObjectKey Key, ReceiverHealth Health)>>();
        var known = new HashSet<ObjectKey>();
        foreach (var integration in _caches.Integrations.List())
        {
            var key = ObjectKey.Of(integration);
            known.Add(key);
            if (!byIntegration.TryGetValue(key, out var ready) || ready.Count == 0)
            {
                Forget(key);
                continue;
            }

            rounds.Add(PollIntegrationAsync(key, ready, gate, now, cancellationToken));
        }

        foreach (var (key, health) in await Task.WhenAll(rounds).ConfigureAwait(false))
        {
            var summary = HealthAggregator.Summarize(health);
            var previous = _summaries.GetValueOrDefault(key);
            _summaries[key] = summary;
            if (!summary.SameAs(previous))
            {
                Changed?.Invoke(key);
            }
        }

        foreach (var gone in _summaries.Keys.Where(k => !known.Contains(k)).ToList())
        {
            _summaries.TryRemove(gone, out _);
        }

        if (_health is GrpcReceiverHealthClient grpc)
        {
            grpc.Retain(byIntegration.Values.SelectMany(p => p).Select(p => (p.Status.PodIP, ReceiverPorts.Grpc)));
        }

        Rounds++;
    }

    private void Forget(ObjectKey key)
    {
        if (_summaries.TryRemove(key, out _))
        {
            Changed?.Invoke(key);
        }
    }

    private async Task<(ObjectKey, ReceiverHealth)> PollIntegrationAsync(ObjectKey key, List<V1Pod> pods, SemaphoreSlim gate, DateTime now, CancellationToken cancellationToken)
    {
        var answers = await Task.WhenAll(pods.Select(async pod =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var deadline = _time.GetUtcNow().UtcDateTime + _settings.HealthPollTimeout;
                var report = await _health.GetSyncHealthAsync(pod.Status.PodIP, ReceiverPorts.Grpc, deadline, cancellationToken).ConfigureAwait(false);
                return new PodHealth(pod.Metadata.Name, report, null);
            }
            catch (RpcException e)
            {
                LogPodUnreachable(_logger, key, pod.Metadata.Name, e.StatusCode);
                return new PodHealth(pod.Metadata.Name, null, $"SyncHealth failed with {e.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException)
            {
                LogPodFailed(_logger, key, pod.Metadata.Name, e);
                return new PodHealth(pod.Metadata.Name, null, $"SyncHealth failed: {e.Message}");
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        return (key, new ReceiverHealth(now, [.. answers.OrderBy(a => a.Pod, StringComparer.Ordinal)]));
    }

    private async Task<List<V1Pod>> ListReceiverPodsAsync(CancellationToken cancellationToken)
    {
        var selector = $"{ResourceLabels.Name}={ResourceLabels.ReceiverName},{ResourceLabels.ManagedBy}={ResourceLabels.OperatorName}";
        if (_settings.WatchNamespaces.Count == 0)
        {
            var all = await _client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
            return [.. all.Items];
        }

        var pods = new List<V1Pod>();
        foreach (var ns in _settings.WatchNamespaces)
        {
            var list = await _client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
            pods.AddRange(list.Items);
        }

        return pods;
    }

    private static bool IsReady(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null
        && pod.Metadata.Labels?.ContainsKey(ResourceLabels.Instance) == true
        && !string.IsNullOrEmpty(pod.Status?.PodIP)
        && pod.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health polling round failed ({Error}: {Message})")]
    private static partial void LogRoundFailed(ILogger logger, string error, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Receiver pod {Pod} of {Key} did not answer SyncHealth ({Status})")]
    private static partial void LogPodUnreachable(ILogger logger, ObjectKey key, string pod, StatusCode status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Receiver pod {Pod} of {Key} could not be asked for SyncHealth")]
    private static partial void LogPodFailed(ILogger logger, ObjectKey key, string pod, Exception error);
}
