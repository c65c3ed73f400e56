namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Why the inputs of an integration could not be resolved (reason + actionable message), and the
/// condition it belongs to besides Ready (e.g. WebhookSecretReady for the webhook Secret).
/// </summary>
public sealed record InputProblem(string Reason, string Message, string? ConditionType = null);
