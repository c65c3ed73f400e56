namespace ControllerRuntime;

/// <summary>
/// Level-triggered reconcile of one object: read the current state, make the world match it,
/// report. Called with the same key never twice at once.
/// </summary>
public interface IReconciler
{
    Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken);
}
