namespace Greenhouse.Receiver.Sync;

/// <summary>A row of the hydration queue as the worker read it.</summary>
internal sealed record HydrationRequest(long CandidateId, long Version, int Attempts);
