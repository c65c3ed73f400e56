using System.Collections.Concurrent;
using System.Globalization;
using Greenhouse.Contracts.Receiver.V1;
using Grpc.Net.Client;

namespace Greenhouse.Operator.Health;

/// <summary>
/// SyncHealth over gRPC (h2c, the port is cluster-internal). One channel per pod address is kept
/// and reused; channels of addresses not asked for in a round are disposed by <see cref="Retain"/>.
/// </summary>
public sealed class GrpcReceiverHealthClient : IReceiverHealthClient, IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public async Task<SyncHealthReport> GetSyncHealthAsync(string podIp, int port, DateTime deadline, CancellationToken cancellationToken)
    {
        var channel = _channels.GetOrAdd(Address(podIp, port), address => GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), EnableMultipleHttp2Connections = false },
            DisposeHttpClient = true,
        }));
        var client = new SyncHealth.SyncHealthClient(channel);
        return await client.GetSyncHealthAsync(new GetSyncHealthRequest(), deadline: deadline, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>Disposes the channels of addresses not in <paramref name="addresses"/> (pods gone).</summary>
    public void Retain(IEnumerable<(string PodIp, int Port)> addresses)
    {
        var keep = addresses.Select(a => Address(a.PodIp, a.Port)).ToHashSet(StringComparer.Ordinal);
        foreach (var address in _channels.Keys.Where(a => !keep.Contains(a)).ToList())
        {
            if (_channels.TryRemove(address, out var channel))
            {
                channel.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }

        _channels.Clear();
    }

    private static string Address(string podIp, int port) =>
        podIp.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"http://[{podIp}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"http://{podIp}:{port}");
}
