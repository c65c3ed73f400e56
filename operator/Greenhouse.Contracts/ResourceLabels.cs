namespace Greenhouse.Contracts;

/// <summary>Labels the operator puts on every object it owns.</summary>
public static class ResourceLabels
{
    public const string Name = "app.kubernetes.io/name";
    public const string Instance = "app.kubernetes.io/instance";
    public const string ManagedBy = "app.kubernetes.io/managed-by";

    public const string ReceiverName = "greenhouse-receiver";
    public const string OperatorName = "greenhouse-operator";
}
