using Greenhouse.Harvest;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>Outcome of the last token request with an integration's Harvest credentials (never holds the secret).</summary>
public sealed record HarvestValidation(HarvestTokenCheckOutcome Outcome, string SecretName, string Message, DateTime CheckedAt, DateTime NextCheckAt);
