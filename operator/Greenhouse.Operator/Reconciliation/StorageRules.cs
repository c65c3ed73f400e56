using k8s.Models;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// The rules the CRD states as CEL (storage class immutable, size never shrinks) and the replica limit of local
/// storage, checked against the live PersistentVolumeClaim, for API servers that do not run CEL (or an old CRD).
/// </summary>
public static class StorageRules
{
    /// <summary>Why the desired claim cannot replace the live one; null when it can.</summary>
    public static InputProblem? Check(V1PersistentVolumeClaim desired, V1PersistentVolumeClaim? live)
    {
        ArgumentNullException.ThrowIfNull(desired);
        if (live is null)
        {
            return null;
        }

        var name = live.Metadata.Name;
        var wantClass = desired.Spec.StorageClassName;
        var haveClass = live.Spec?.StorageClassName;
        if (wantClass is not null && wantClass != haveClass)
        {
            return new InputProblem(ConditionReasons.StorageChangeRefused,
                $"spec.storage.storageClassName cannot change: PersistentVolumeClaim \"{name}\" has class \"{haveClass ?? "(cluster default)"}\"; set it back (moving data to another class needs a new integration)");
        }

        if (Requested(desired) is { } want && Requested(live) is { } have && want.ToDecimal() < have.ToDecimal())
        {
            return new InputProblem(ConditionReasons.StorageChangeRefused,
                $"spec.storage.size cannot shrink: PersistentVolumeClaim \"{name}\" requests {have}; set at least {have}");
        }

        return null;
    }

    /// <summary>Local (ReadWriteOnce) storage allows one receiver; more would share the database files.</summary>
    public static InputProblem? CheckReplicas(int? replicas) =>
        replicas is > 1
            ? new InputProblem(ConditionReasons.InvalidSpec, $"spec.receiver.replicas is {replicas}, but a receiver's data is on a ReadWriteOnce volume that only one pod may use; set it to 1")
            : null;

    private static ResourceQuantity? Requested(V1PersistentVolumeClaim claim) =>
        claim.Spec?.Resources?.Requests?.TryGetValue("storage", out var size) == true ? size : null;
}
