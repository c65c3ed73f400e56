namespace Greenhouse.Receiver.Storage;

/// <summary>A stored event waiting to be processed; <see cref="Body"/> is null when its record in the inbox log is missing or damaged.</summary>
public sealed record PendingEvent(long Seq, string EventId, string Action, byte[]? Body, int Attempts, DateTimeOffset NextAttemptAt)
{
    /// <summary>Where the body is in the inbox log; null for bodies stored before schema 3.</summary>
    public (long Segment, long Offset, int Length)? BodyAt { get; init; }
}
