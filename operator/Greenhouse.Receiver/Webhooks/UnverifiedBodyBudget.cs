namespace Greenhouse.Receiver.Webhooks;

/// <summary>
/// Bytes of webhook bodies held in memory before their signature was checked, across all
/// requests. Anyone on the internet can send such bytes; capping their sum (not only each body)
/// keeps many slow or large anonymous bodies from exhausting the pod's memory.
/// </summary>
public sealed class UnverifiedBodyBudget
{
    private readonly long _limit;
    private long _bytes;

    public UnverifiedBodyBudget(long limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
    }

    /// <summary>Bytes currently reserved.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public long Limit => _limit;

    /// <summary>Reserves <paramref name="bytes"/> more; false (nothing reserved) when that would pass the limit.</summary>
    public bool TryReserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        while (true)
        {
            var current = Interlocked.Read(ref _bytes);
            var next = current + bytes;
            if (next > _limit)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _bytes, next, current) == current)
            {
                return true;
            }
        }
    }

    public void Release(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Interlocked.Add(ref _bytes, -bytes);
    }
}
