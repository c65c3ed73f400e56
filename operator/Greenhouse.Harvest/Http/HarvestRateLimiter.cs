using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace Greenhouse.Harvest;

/// <summary>
/// Process-wide gate in front of every Harvest request. It learns the window's limit from
/// <c>X-RateLimit-Limit</c>, counts what was sent in the current window (taking the server's
/// <c>X-RateLimit-Remaining</c> when it says more was used, e.g. by another process on the same
/// credentials), keeps <see cref="HarvestOptions.ReservedBudgetShare"/> free, and after a 429 sends
/// nothing until <c>Retry-After</c> / <c>X-RateLimit-Reset</c> has passed. Until the limit is known
/// only one request is in flight.
/// </summary>
internal sealed class HarvestRateLimiter(IOptions<HarvestOptions> options, HarvestStatus status, TimeProvider timeProvider)
{
    private readonly Lock gate = new();
    private int? limit;
    private DateTimeOffset? windowEndsAt;
    private DateTimeOffset windowStartedAt;
    private int usedInWindow;
    private int inFlight;
    private DateTimeOffset blockedUntil;
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask AcquireAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan? wait;
            Task signal;
            lock (gate)
            {
                var now = timeProvider.GetUtcNow();
                wait = WaitBeforeSending(now);
                if (wait is null)
                {
                    usedInWindow++;
                    inFlight++;
                    return;
                }

                signal = changed.Task;
            }

            if (wait == Timeout.InfiniteTimeSpan)
            {
                await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.WhenAny(signal, Task.Delay(wait.Value, timeProvider, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>Learns from an answer to a request granted by <see cref="AcquireAsync"/>.</summary>
    public void OnResponse(HttpResponseMessage response)
    {
        var headers = response.Headers;
        var throttled = response.StatusCode == HttpStatusCode.TooManyRequests;
        int? learnedLimit;
        int? remaining;
        DateTimeOffset? resetAt;
        lock (gate)
        {
            var now = timeProvider.GetUtcNow();
            inFlight = Math.Max(0, inFlight - 1);
            learnedLimit = ReadInt(headers, "X-RateLimit-Limit");
            remaining = ReadInt(headers, "X-RateLimit-Remaining");
            resetAt = ReadReset(headers, now);
            if (learnedLimit is > 0)
            {
                limit = learnedLimit;
            }

            var stale = resetAt is not null && windowEndsAt is not null && resetAt < windowEndsAt - TimeSpan.FromMilliseconds(500);
            if (!stale)
            {
                if (resetAt is not null && windowEndsAt is not null && resetAt > windowEndsAt + TimeSpan.FromMilliseconds(500))
                {
                    // The server has moved on to a new window before the local clock did: restart the count
                    // from what the server says (plus what is still in flight) instead of carrying the old one.
                    windowEndsAt = resetAt;
                    windowStartedAt = now;
                    usedInWindow = (limit is { } windowLimit && remaining is { } windowRemaining ? windowLimit - windowRemaining : 1) + inFlight;
                }
                else if (resetAt is not null && windowEndsAt is null)
                {
                    windowEndsAt = resetAt;
                }

                if (limit is { } known && remaining is { } left)
                {
                    usedInWindow = Math.Max(usedInWindow, known - left);
                }
            }

            if (throttled)
            {
                var retryAfter = ReadRetryAfter(response, now) ?? resetAt ?? now + options.Value.AssumedRateLimitWindow;
                if (retryAfter > blockedUntil)
                {
                    blockedUntil = retryAfter;
                }

                if (remaining is null)
                {
                    // Without X-RateLimit-Remaining the only safe reading of a 429 is "this window is used up".
                    usedInWindow = Math.Max(usedInWindow, Budget());
                }
            }

            Signal();
        }

        status.RateLimitObserved(learnedLimit, remaining, resetAt, throttled);
    }

    /// <summary>Returns the permit of a request that got no answer.</summary>
    public void OnNoResponse()
    {
        lock (gate)
        {
            inFlight = Math.Max(0, inFlight - 1);
            Signal();
        }
    }

    /// <summary>Null to send now; a delay; or infinite to wait for the answer of the request in flight.</summary>
    private TimeSpan? WaitBeforeSending(DateTimeOffset now)
    {
        var margin = options.Value.RateLimitResetMargin;
        if (now < blockedUntil + margin)
        {
            return blockedUntil + margin - now;
        }

        var windowEnd = windowEndsAt ?? windowStartedAt + options.Value.AssumedRateLimitWindow;
        if (now >= windowEnd + margin)
        {
            windowStartedAt = now;
            windowEndsAt = null;
            usedInWindow = 0;
        }

        if (limit is null)
        {
            return inFlight == 0 ? null : Timeout.InfiniteTimeSpan;
        }

        if (usedInWindow < Budget())
        {
            return null;
        }

        return (windowEndsAt ?? windowStartedAt + options.Value.AssumedRateLimitWindow) + margin - now;
    }

    private int Budget()
    {
        var share = Math.Clamp(options.Value.ReservedBudgetShare, 0, 0.9);
        return limit is { } known ? Math.Max(1, (int)Math.Floor(known * (1 - share))) : 1;
    }

    private void Signal()
    {
        var previous = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private static int? ReadInt(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) && int.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    // The v3 format of X-RateLimit-Reset is not documented: a value that looks like an epoch time is
    // taken as one, a small value as seconds until the reset, anything else as an HTTP date.
    internal static DateTimeOffset? ReadReset(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (!headers.TryGetValues("X-RateLimit-Reset", out var values) || values.FirstOrDefault() is not { } raw)
        {
            return null;
        }

        if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return number > 1_000_000_000
                ? DateTimeOffset.FromUnixTimeMilliseconds((long)(number * 1000))
                : now + TimeSpan.FromSeconds(Math.Max(0, number));
        }

        return DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null;
    }

    private static DateTimeOffset? ReadRetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return now + delta;
        }

        return retryAfter?.Date;
    }
}
