namespace Greenhouse.Harvest;

/// <summary>Observable state of the Harvest connection, shared by every client in the process (a DI singleton).</summary>
public sealed class HarvestStatus(TimeProvider timeProvider)
{
    private readonly Lock gate = new();
    private readonly SortedSet<string> missingScopes = new(StringComparer.Ordinal);
    private HarvestStatusSnapshot current = new(null, null, false, null, null, null, null, null, null, 0, []);

    /// <summary>Raised after every Harvest API call (not token requests); handlers must be fast and must not throw.</summary>
    public event EventHandler<HarvestRequestCompletedEventArgs>? RequestCompleted;

    public HarvestStatusSnapshot Current
    {
        get
        {
            lock (gate)
            {
                return current;
            }
        }
    }

    internal void Completed(string operation, System.Net.HttpStatusCode? statusCode, TimeSpan duration) =>
        RequestCompleted?.Invoke(this, new HarvestRequestCompletedEventArgs(operation, statusCode, duration));

    internal void TokenIssued(DateTimeOffset expiresAt, bool usingPreviousSecret) =>
        Update(s => s with { Authenticated = true, TokenExpiresAt = expiresAt, UsingPreviousClientSecret = usingPreviousSecret });

    internal void AuthenticationFailed(string error)
    {
        var now = timeProvider.GetUtcNow();
        Update(s => s with { Authenticated = false, TokenExpiresAt = null, LastError = error, LastErrorAt = now });
    }

    internal void CallSucceeded(string scope)
    {
        var now = timeProvider.GetUtcNow();
        lock (gate)
        {
            missingScopes.Remove(scope);
            current = current with { LastError = null, LastSuccessAt = now, MissingScopes = [.. missingScopes] };
        }
    }

    internal void CallFailed(string error, string? missingScope = null)
    {
        var now = timeProvider.GetUtcNow();
        lock (gate)
        {
            if (missingScope is not null)
            {
                missingScopes.Add(missingScope);
            }

            current = current with { LastError = error, LastErrorAt = now, MissingScopes = [.. missingScopes] };
        }
    }

    internal void RateLimitObserved(int? limit, int? remaining, DateTimeOffset? resetAt, bool throttled) =>
        Update(s => s with
        {
            RateLimitLimit = limit ?? s.RateLimitLimit,
            RateLimitRemaining = remaining ?? s.RateLimitRemaining,
            RateLimitResetAt = resetAt ?? s.RateLimitResetAt,
            ThrottledResponses = s.ThrottledResponses + (throttled ? 1 : 0),
        });

    private void Update(Func<HarvestStatusSnapshot, HarvestStatusSnapshot> change)
    {
        lock (gate)
        {
            current = change(current);
        }
    }
}
