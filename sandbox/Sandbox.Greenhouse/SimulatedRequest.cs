namespace Sandbox.Greenhouse;

/// <summary>One Harvest request as the simulator saw it; <see cref="PathAndQuery"/> is the raw target.</summary>
public sealed record SimulatedRequest(DateTimeOffset At, string Method, string PathAndQuery, int Status, string? ClientId, bool DuringPenalty);
