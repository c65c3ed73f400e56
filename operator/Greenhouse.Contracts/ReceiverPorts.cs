namespace Greenhouse.Contracts;

/// <summary>Container ports of a receiver pod; the Service exposes the same numbers.</summary>
public static class ReceiverPorts
{
    /// <summary>Public webhook listener (HTTP/1.1), reached through the Ingress.</summary>
    public const int Webhook = 8080;

    /// <summary>Cluster-internal gRPC (h2c): SyncHealth, Candidates, Writeback.</summary>
    public const int Grpc = 8081;

    /// <summary>Cluster-internal HTTP/1.1: /metrics and the JSON transcoding of the gRPC services.</summary>
    public const int Http = 8082;
}
