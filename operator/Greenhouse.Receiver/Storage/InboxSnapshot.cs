namespace Greenhouse.Receiver.Storage;

/// <summary>Counts read from the inbox tables (they survive restarts, unlike process counters).</summary>
public sealed record InboxSnapshot(long Pending, long DeadLetters, DateTimeOffset? OldestPendingAt, DateTimeOffset? LastReceivedAt);
