using System.Net.Sockets;
using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>
/// A container's readiness or liveness probe (httpGet or tcpSocket against the pod IP), every
/// <c>periodSeconds</c> after <c>initialDelaySeconds</c>; <c>failureThreshold</c> failures in a row
/// make it fail. A readiness probe is tried on every sync until its first success, so a pod turns
/// Ready as soon as it can.
/// </summary>
internal sealed class ContainerProbe(V1Probe spec, V1Container container, string podIp, bool eagerUntilFirstSuccess)
{
    private Task<bool>? running;
    private int failures;
    private DateTimeOffset nextAt;

    /// <summary>Succeeded, and not failed <c>failureThreshold</c> times since (readiness).</summary>
    public bool Passing { get; private set; }

    /// <summary>Failed <c>failureThreshold</c> times in a row (liveness: the container is restarted).</summary>
    public bool Failed => failures >= Math.Max(1, spec.FailureThreshold ?? 3);

    /// <summary>For a new process: not passing, no failures, and a probe still in flight (it asked the old one) is ignored.</summary>
    public void Reset()
    {
        running = null;
        Passing = false;
        failures = 0;
        nextAt = default;
    }

    /// <summary>Collects a finished probe and starts the next one when due; <paramref name="onResult"/> wakes the sync that reads it.</summary>
    public void Tick(HttpClient http, DateTimeOffset now, DateTimeOffset containerStartedAt, Action onResult)
    {
        if (running is { IsCompleted: true } finished)
        {
            var success = finished.IsCompletedSuccessfully && finished.Result;
            running = null;
            if (success)
            {
                failures = 0;
                Passing = true;
            }
            else if (++failures >= Math.Max(1, spec.FailureThreshold ?? 3))
            {
                Passing = false;
            }
        }

        var start = containerStartedAt + TimeSpan.FromSeconds(spec.InitialDelaySeconds ?? 0);
        if (nextAt == default && !eagerUntilFirstSuccess)
        {
            nextAt = start + Period;
        }

        if (running is null && now >= nextAt && now >= start)
        {
            nextAt = Passing || !eagerUntilFirstSuccess ? now + Period : now;
            running = RunAsync(http, TimeSpan.FromSeconds(Math.Max(1, spec.TimeoutSeconds ?? 1)));
            // A result is reported by the next sync; wake it so a pod turns Ready without waiting a period.
            running.ContinueWith(_ => onResult(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private TimeSpan Period => TimeSpan.FromSeconds(Math.Max(1, spec.PeriodSeconds ?? 10));

    private async Task<bool> RunAsync(HttpClient http, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            if (spec.HttpGet is { } get)
            {
                var scheme = string.Equals(get.Scheme, "HTTPS", StringComparison.OrdinalIgnoreCase) ? "https" : "http";
                var uri = new Uri($"{scheme}://{podIp}:{Port(get.Port)}{(string.IsNullOrEmpty(get.Path) ? "/" : get.Path)}");
                // The whole answer is read, as the kubelet does, so a server is never cut off mid-body.
                using var response = await http.GetAsync(uri, cancel.Token).ConfigureAwait(false);
                return (int)response.StatusCode is >= 200 and < 400;
            }

            if (spec.TcpSocket is { } tcp)
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(podIp, Port(tcp.Port), cancel.Token).ConfigureAwait(false);
                return true;
            }

            // exec and gRPC probes are not run locally: a running container counts as ready.
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    private int Port(IntOrString port)
    {
        var value = port.Value;
        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        return container.Ports?.FirstOrDefault(p => p.Name == value)?.ContainerPort
            ?? throw new InvalidOperationException($"probe port \"{value}\" is not a port of container {container.Name}");
    }
}
