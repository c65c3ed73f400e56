namespace Greenhouse.Receiver.Storage;

/// <summary>A row of the hydration queue as the worker read it.</summary>
public sealed record HydrationRequest(long CandidateId, long Version, int Attempts);
