namespace Greenhouse.Operator.Health;

/// <summary>What one polling round got from the ready pods of one integration.</summary>
public sealed record ReceiverHealth(DateTime PolledAt, IReadOnlyList<PodHealth> Pods);
