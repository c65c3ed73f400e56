using Greenhouse.Contracts.Receiver.V1;

namespace Greenhouse.Operator.Health;

/// <summary>One ready receiver pod's answer to SyncHealth, or why it gave none.</summary>
public sealed record PodHealth(string Pod, SyncHealthReport? Report, string? Error);
