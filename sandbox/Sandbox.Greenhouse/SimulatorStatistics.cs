namespace Sandbox.Greenhouse;

/// <summary>Counters of a running simulator.</summary>
/// <param name="TokenRequests">Requests to the token endpoint.</param>
/// <param name="HarvestRequests">Requests to <c>/v3</c> (all outcomes).</param>
/// <param name="Throttled">429 answers.</param>
/// <param name="RequestsDuringPenalty">Requests that arrived before the Retry-After of a previous 429 had passed.</param>
/// <param name="MaxRequestsInAnyWindow">Most requests one client got accepted within one rate-limit window.</param>
public sealed record SimulatorStatistics(int TokenRequests, int HarvestRequests, int Throttled, int RequestsDuringPenalty, int MaxRequestsInAnyWindow);
