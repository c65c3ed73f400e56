using System.Net;

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
    public required TimeSpan SecretsPollInterval { get; init; }
    public required string DataDirectory { get; init; }
    public required TimeSpan Retention { get; init; }
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
    /// <summary>Harvest sync settings; null in webhook-only mode.</summary>
    public HarvestSyncOptions? Harvest { get; init; }
}
