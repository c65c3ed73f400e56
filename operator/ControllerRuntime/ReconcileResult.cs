namespace ControllerRuntime;

/// <summary>Outcome of a successful reconcile; failures are exceptions (requeued with backoff).</summary>
public readonly record struct ReconcileResult(TimeSpan? RequeueAfter)
{
    public static ReconcileResult Done => default;

    /// <summary>Reconcile again after <paramref name="delay"/> even if nothing changes (e.g. to poll).</summary>
    public static ReconcileResult After(TimeSpan delay) => new(delay);
}
