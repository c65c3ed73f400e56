namespace Sandbox.Greenhouse;

/// <summary>How a <see cref="GreenhouseSimulator"/> starts. Everything Greenhouse does not document is a setting here.</summary>
public sealed class GreenhouseSimulatorOptions
{
    /// <summary>Loopback port; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>Seeded candidates generated at start.</summary>
    public int CandidateCount { get; set; } = 100;

    /// <summary>Seed of the data generator; the same seed gives the same people, e-mails and URLs.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Greenhouse user id of the integration's sync user (a Site Admin).</summary>
    public long SyncUserId { get; set; } = 4080;

    /// <summary>OAuth clients the token endpoint knows. Empty means one client with every scope (<see cref="SimulatedClient.Default"/>).</summary>
    public IList<SimulatedClient> Clients { get; } = [];

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Which expiry field the token response carries (Greenhouse's is undocumented).</summary>
    public TokenExpiryFormat TokenExpiryFormat { get; set; } = TokenExpiryFormat.ExpiresAt;

    /// <summary>Requests per window and client.</summary>
    public int RateLimit { get; set; } = 50;

    /// <summary>Fixed rate-limit window; windows are aligned to multiples of this length since the Unix epoch.</summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromSeconds(10);

    public RateLimitResetFormat RateLimitResetFormat { get; set; } = RateLimitResetFormat.EpochSeconds;

    /// <summary>Waits between webhook attempts; Greenhouse makes 7 attempts over about 15 hours.</summary>
    public IReadOnlyList<TimeSpan> WebhookRetryDelays { get; set; } =
        [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(60), TimeSpan.FromMinutes(120), TimeSpan.FromMinutes(240), TimeSpan.FromMinutes(480)];

    /// <summary>Multiplies every webhook retry delay; 0.0001 turns the 15-hour schedule into about 5 seconds.</summary>
    public double WebhookRetryTimeScale { get; set; } = 1.0;

    /// <summary>How long one webhook attempt may take before it counts as failed.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Strict mode: write requests with a property Harvest does not document for that resource are
    /// 422, and token requests whose Basic credentials are not form-URL-encoded (RFC 6749 2.3.1: a raw
    /// <c>%</c>, <c>+</c>, <c>/</c>, <c>:</c>... in the id or secret) are 401 <c>invalid_client</c>.
    /// Off by default: the lenient simulator accepts what real clients get away with.
    /// </summary>
    public bool Strict { get; set; }

    /// <summary>
    /// Base URL written into <c>Link</c> next-page headers; null = the simulator's own Harvest URL.
    /// Another host (e.g. <c>http://localhost:port/v3</c> for a simulator on 127.0.0.1) tests that a
    /// client refuses to send its token off Harvest's origin.
    /// </summary>
    public Uri? NextLinkBaseUrl { get; set; }

    /// <summary>Clock for tokens, rate-limit windows, timestamps and webhook retries.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
