using ControllerRuntime;
using Greenhouse.Operator.Api;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// The computed status, the conditions whose status or reason changed (one event each; of a first status only Ready), and when
/// the status changes by itself (e.g. becomes Stale) so the reconciler can requeue for it.
/// </summary>
public sealed record StatusResult(GreenhouseIntegrationStatus Status, IReadOnlyList<Condition> Transitions, DateTime? NextCheckAt);
