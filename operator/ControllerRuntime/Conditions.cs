namespace ControllerRuntime;

/// <summary>Condition list helpers with metav1 semantics.</summary>
public static class Conditions
{
    public const string True = "True";
    public const string False = "False";
    public const string Unknown = "Unknown";

    /// <summary>
    /// Returns the list with <paramref name="condition"/> set: lastTransitionTime is kept while the
    /// status stays the same, and set to <paramref name="now"/> when it changes.
    /// </summary>
    public static IList<Condition> Set(IEnumerable<Condition>? conditions, Condition condition, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var list = conditions?.ToList() ?? [];
        var index = list.FindIndex(c => c.Type == condition.Type);
        var existing = index >= 0 ? list[index] : null;
        var transition = existing is not null && existing.Status == condition.Status
            ? existing.LastTransitionTime ?? TruncateToSeconds(now)
            : TruncateToSeconds(now);
        var updated = condition with { LastTransitionTime = transition };
        if (index >= 0)
        {
            list[index] = updated;
        }
        else
        {
            list.Add(updated);
        }

        return list;
    }

    public static Condition? Find(IEnumerable<Condition>? conditions, string type) =>
        conditions?.FirstOrDefault(c => c.Type == type);

    // metav1.Time has second precision on the wire; keeping it here makes comparisons with what the
    // API server returns exact.
    private static DateTime TruncateToSeconds(DateTime time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
}
