namespace Greenhouse.Operator.Reconciliation;

/// <summary>One step of <see cref="WebhookRegistrationPlanner.Plan"/>: Create (no id), Update or Delete a webhook, or Keep it as it is.</summary>
public sealed record RegistrationAction(RegistrationActionKind Kind, string EventType, long? Id = null);
