namespace Greenhouse.Operator.Reconciliation;

/// <summary>Why the inputs of an integration could not be resolved (reason + actionable message).</summary>
public sealed record InputProblem(string Reason, string Message);
