namespace Greenhouse.Operator.Reconciliation;

/// <summary>CamelCase reasons of the conditions, each paired with a message a person can act on.</summary>
public static class ConditionReasons
{
    public const string Ready = "Ready";
    public const string Available = "MinimumReplicasAvailable";
    public const string Progressing = "ReceiverProgressing";
    public const string Creating = "Creating";
    public const string Suspended = "Suspended";
    public const string SecretNotFound = "SecretNotFound";
    public const string SecretKeyMissing = "SecretKeyMissing";
    public const string InvalidSpec = "InvalidSpec";
    public const string NameConflict = "NameConflict";
    public const string StorageChangeRefused = "StorageChangeRefused";
}
