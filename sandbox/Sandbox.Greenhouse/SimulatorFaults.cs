namespace Sandbox.Greenhouse;

/// <summary>Faults applied to Harvest requests (not to the token endpoint), changeable while the simulator runs.</summary>
public sealed class SimulatorFaults
{
    private int failNext;
    private int dropNext;
    private int throttleNext;
    private int outageStatus;

    /// <summary>Added to every Harvest answer.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Share (0 to 1) of requests answered 503.</summary>
    public double ServerErrorShare { get; set; }

    /// <summary>Share (0 to 1) of requests whose connection is dropped without an answer.</summary>
    public double DropConnectionShare { get; set; }

    /// <summary>Retry-After sent with forced 429s.</summary>
    public TimeSpan ThrottleRetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// An outage that lasts until it is set back to null: every Harvest request is answered with this status
    /// (401 with <c>WWW-Authenticate: Bearer error="invalid_token"</c>, 429 with <see cref="ThrottleRetryAfter"/>,
    /// or any other 4xx/5xx) before it reaches rate limits or data. Tokens are still issued.
    /// </summary>
    public int? OutageStatus
    {
        get => Volatile.Read(ref outageStatus) is var status and > 0 ? status : null;
        set
        {
            if (value is { } status && (status < 400 || status > 599))
            {
                throw new ArgumentOutOfRangeException(nameof(value), status, "an outage answers with a 4xx or 5xx status");
            }

            Volatile.Write(ref outageStatus, value ?? 0);
        }
    }

    /// <summary>The next <paramref name="count"/> Harvest requests are answered 503.</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref failNext, count);

    /// <summary>The next <paramref name="count"/> Harvest requests lose their connection.</summary>
    public void DropNext(int count) => Interlocked.Exchange(ref dropNext, count);

    /// <summary>A 429 storm: the next <paramref name="count"/> requests are answered 429 with <see cref="ThrottleRetryAfter"/>.</summary>
    public void ThrottleNext(int count) => Interlocked.Exchange(ref throttleNext, count);

    internal bool TakeFailure() => Take(ref failNext);

    internal bool TakeDrop() => Take(ref dropNext);

    internal bool TakeThrottle() => Take(ref throttleNext);

    private static bool Take(ref int counter)
    {
        while (true)
        {
            var current = Volatile.Read(ref counter);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter, current - 1, current) == current)
            {
                return true;
            }
        }
    }
}
