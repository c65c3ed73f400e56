namespace Greenhouse.Operator.Reconciliation;

public enum RegistrationActionKind
{
    Keep,
    Create,
    Update,
    Delete,
}
