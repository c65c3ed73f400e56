namespace Greenhouse.Operator.Reconciliation;

/// <summary>What resolving an integration's inputs produced: the inputs to apply (or the problem), and the decisions status reports.</summary>
internal sealed record Resolution
{
    public ResolvedInputs? Inputs { get; init; }

    public InputProblem? Problem { get; init; }

    public WebhookSecretPlan? Webhook { get; init; }

    public HarvestValidation? HarvestValidation { get; init; }

    public bool HarvestHeldBack { get; init; }
}
