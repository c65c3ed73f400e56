namespace Greenhouse.Receiver.Storage;

/// <summary>A write-back as the outbox recorded it. <see cref="Done"/> false means sent (or about to be) with no answer recorded: in doubt.</summary>
internal sealed record OutboxEntry(string RequestId, string Operation, string RequestHash, bool Done, DateTimeOffset CreatedAt, long GreenhouseId, long CandidateId);
