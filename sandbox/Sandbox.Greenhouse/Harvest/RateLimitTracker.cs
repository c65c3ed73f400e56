namespace Sandbox.Greenhouse;

/// <summary>
/// Fixed windows per client, aligned to multiples of the window length since the Unix epoch. A request
/// arriving before the Retry-After of its last 429 has passed is answered 429 again and counted as
/// "during penalty" (a client that does not wait as told).
/// </summary>
internal sealed class RateLimitTracker(GreenhouseSimulatorOptions options)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, ClientWindow> windows = new(StringComparer.Ordinal);

    public int Throttled { get; private set; }

    public int RequestsDuringPenalty { get; private set; }

    public int MaxRequestsInAnyWindow { get; private set; }

    public Decision Check(string clientId, DateTimeOffset now, bool forceThrottle, TimeSpan forcedRetryAfter)
    {
        var windowMs = Math.Max(1, (long)options.RateLimitWindow.TotalMilliseconds);
        var index = now.ToUnixTimeMilliseconds() / windowMs;
        var resetAt = DateTimeOffset.FromUnixTimeMilliseconds((index + 1) * windowMs);
        lock (gate)
        {
            if (!windows.TryGetValue(clientId, out var window))
            {
                window = new ClientWindow();
                windows[clientId] = window;
            }

            if (window.Index != index)
            {
                window.Index = index;
                window.Count = 0;
            }

            var duringPenalty = now < window.PenaltyUntil;
            if (duringPenalty)
            {
                RequestsDuringPenalty++;
            }

            if (forceThrottle || duringPenalty || window.Count >= options.RateLimit)
            {
                var until = forceThrottle ? now + forcedRetryAfter : duringPenalty ? window.PenaltyUntil : resetAt;
                window.PenaltyUntil = until > window.PenaltyUntil ? until : window.PenaltyUntil;
                Throttled++;
                return new Decision(false, Math.Max(0, options.RateLimit - window.Count), resetAt, until - now, duringPenalty);
            }

            window.Count++;
            MaxRequestsInAnyWindow = Math.Max(MaxRequestsInAnyWindow, window.Count);
            return new Decision(true, options.RateLimit - window.Count, resetAt, null, false);
        }
    }

    internal sealed record Decision(bool Allowed, int Remaining, DateTimeOffset ResetAt, TimeSpan? RetryAfter, bool DuringPenalty);

    private sealed class ClientWindow
    {
        public long Index { get; set; } = -1;

        public int Count { get; set; }

        public DateTimeOffset PenaltyUntil { get; set; }
    }
}
