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
    public const string IngressAnnotationNotAllowed = "IngressAnnotationNotAllowed";
    public const string ImageNotAllowed = "ImageNotAllowed";
    public const string InsecureUrl = "InsecureUrl";
    public const string WebhookSecretTooShort = "WebhookSecretTooShort";
    public const string ApplyFailed = "ApplyFailed";
    public const string NameConflict = "NameConflict";
    public const string StorageChangeRefused = "StorageChangeRefused";

    // WebhookSecretReady
    public const string SecretReady = "SecretReady";
    public const string AwaitingAdoption = "AwaitingAdoption";
    public const string RotationNotAdopted = "RotationNotAdopted";
    public const string Registered = "Registered";
    public const string RegistrationPending = "RegistrationPending";
    public const string RegistrationRefused = "RegistrationRefused";
    public const string RegistrationFailed = "RegistrationFailed";

    // HarvestAuthenticated
    public const string Authenticated = "Authenticated";
    public const string Disabled = "Disabled";
    public const string CredentialsRejected = "CredentialsRejected";
    public const string MissingScope = "MissingScope";
    public const string Unreachable = "Unreachable";
    public const string AwaitingToken = "AwaitingToken";

    // Synced
    public const string Synced = "Synced";
    public const string AwaitingHealth = "AwaitingHealth";
    public const string ReceiverUnreachable = "ReceiverUnreachable";
    public const string Stale = "Stale";
    public const string SweepFailing = "SweepFailing";
    public const string LagTooHigh = "LagTooHigh";
    public const string EventsBacklogged = "EventsBacklogged";
    public const string DeadLetters = "DeadLetters";
}
