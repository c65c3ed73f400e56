using System.Net;
using Greenhouse.Receiver.Api.Auth;

namespace Greenhouse.Receiver.Configuration;

/// <summary>The receiver's validated settings (see docs/receiver.md for each key).</summary>
public sealed record ReceiverOptions
{
    public required string WebhookPath { get; init; }
    public required string SecretsDirectory { get; init; }
    public string? BasicAuthDirectory { get; init; }
    /// <summary>Actions to store; empty means all documented actions.</summary>
    public required IReadOnlySet<string> Events { get; init; }
    public required long MaxBodyBytes { get; init; }
    /// <summary>Whole-body read deadline of a webhook delivery, from the end of its headers.</summary>
    public required TimeSpan BodyReadTimeout { get; init; }
    /// <summary>Concurrent connections of the public listener.</summary>
    public required int MaxConnections { get; init; }
    /// <summary>Bytes of not-yet-verified bodies buffered across all deliveries.</summary>
    public required long MaxUnverifiedBytes { get; init; }
    public required TimeSpan SecretsPollInterval { get; init; }
    public required string DataDirectory { get; init; }
    public required TimeSpan Retention { get; init; }
    /// <summary>Dead letters older than this are deleted with their inbox rows.</summary>
    public required TimeSpan DeadLetterRetention { get; init; }
    public required TimeSpan CommitTimeout { get; init; }
    public required int MaxAttempts { get; init; }
    public required TimeSpan RetryBaseDelay { get; init; }
    public required TimeSpan RetryMaxDelay { get; init; }
    public required IPAddress BindAddress { get; init; }
    public required int GrpcPort { get; init; }
    public required int HttpPort { get; init; }
    public required IReadOnlyList<Uri> PublicUrls { get; init; }
    /// <summary>Host of the Greenhouse web app (Greenhouse:SsoDomain) for profile links; null when not set.</summary>
    public string? SsoDomain { get; init; }
    /// <summary>The account's maildrop address (Greenhouse:MaildropEmail); null when not set.</summary>
    public string? MaildropEmail { get; init; }
    /// <summary>Who may call the gRPC and JSON APIs (<c>Api:Auth:*</c>, <c>Api:Clients</c>).</summary>
    public required ApiAuthOptions ApiAuth { get; init; }
    /// <summary>Harvest sync settings; null in webhook-only mode.</summary>
    public HarvestSyncOptions? Harvest { get; init; }
}
