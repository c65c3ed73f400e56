namespace Greenhouse.Operator.Reconciliation;

/// <summary>Condition types of a GreenhouseIntegration's status.</summary>
public static class ConditionTypes
{
    /// <summary>Summary: the integration is fully working.</summary>
    public const string Ready = "Ready";

    /// <summary>The receiver Deployment has its desired pods available.</summary>
    public const string ReceiverAvailable = "ReceiverAvailable";
}
