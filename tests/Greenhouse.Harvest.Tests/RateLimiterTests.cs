using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Greenhouse.Harvest.Tests;

public sealed class RateLimiterTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-29T09:00:00Z", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Only_one_request_is_in_flight_until_the_limit_is_known()
    {
        var (limiter, _, _) = Create();

        await limiter.AcquireAsync(CancellationToken.None);
        var second = limiter.AcquireAsync(CancellationToken.None).AsTask();
        Assert.False(second.IsCompleted);

        limiter.OnResponse(Answer(HttpStatusCode.OK, limit: 10, remaining: 9, reset: Start.AddSeconds(10)));

        await second.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_learned_limit_minus_the_reserved_share_is_never_exceeded_within_a_window()
    {
        var (limiter, time, status) = Create(reserved: 0.2);
        await limiter.AcquireAsync(CancellationToken.None);
        limiter.OnResponse(Answer(HttpStatusCode.OK, limit: 10, remaining: 9, reset: Start.AddSeconds(10)));

        for (var i = 1; i < 8; i++)
        {
            Assert.True(limiter.AcquireAsync(CancellationToken.None).AsTask().IsCompleted, $"permit {i + 1} of 8 is immediate");
        }

        var ninth = limiter.AcquireAsync(CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(ninth.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1.1));

        await ninth.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(10, status.Current.RateLimitLimit);
    }

    [Fact]
    public async Task Remaining_reported_by_the_server_counts_when_others_used_the_budget()
    {
        var (limiter, time, _) = Create(reserved: 0);
        await limiter.AcquireAsync(CancellationToken.None);
        limiter.OnResponse(Answer(HttpStatusCode.OK, limit: 10, remaining: 1, reset: Start.AddSeconds(10)));

        Assert.True(limiter.AcquireAsync(CancellationToken.None).AsTask().IsCompleted);
        var blocked = limiter.AcquireAsync(CancellationToken.None).AsTask();
        Assert.False(blocked.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(10.1));
        await blocked.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task After_a_429_nothing_is_sent_before_retry_after_has_passed()
    {
        var (limiter, time, status) = Create();
        await limiter.AcquireAsync(CancellationToken.None);
        var throttled = Answer(HttpStatusCode.TooManyRequests, limit: 10, remaining: 0, reset: Start.AddSeconds(2));
        throttled.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(30));
        limiter.OnResponse(throttled);

        var next = limiter.AcquireAsync(CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1.1));

        await next.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, status.Current.ThrottledResponses);
    }

    [Fact]
    public async Task A_429_that_leaves_budget_in_the_window_is_waited_out_for_retry_after_only()
    {
        var (limiter, time, _) = Create();
        await limiter.AcquireAsync(CancellationToken.None);
        var throttled = Answer(HttpStatusCode.TooManyRequests, limit: 10, remaining: 6, reset: Start.AddSeconds(10));
        throttled.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
        limiter.OnResponse(throttled);

        var next = limiter.AcquireAsync(CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1.1));

        await next.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_new_window_reported_by_the_server_restarts_the_count_before_the_local_clock_rolls_over()
    {
        var (limiter, _, _) = Create(reserved: 0);
        await limiter.AcquireAsync(CancellationToken.None);
        limiter.OnResponse(Answer(HttpStatusCode.OK, limit: 10, remaining: 9, reset: Start.AddSeconds(10)));
        for (var i = 0; i < 9; i++)
        {
            await limiter.AcquireAsync(CancellationToken.None);
        }

        var blocked = limiter.AcquireAsync(CancellationToken.None).AsTask();
        Assert.False(blocked.IsCompleted);

        // One of the nine in flight landed in the server's next window, which has 9 requests left.
        limiter.OnResponse(Answer(HttpStatusCode.OK, limit: 10, remaining: 9, reset: Start.AddSeconds(20)));

        await blocked.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("1795942810", "2026-11-29T09:00:10Z")]
    [InlineData("7", "2026-11-29T09:00:07Z")]
    public void Reset_header_is_read_as_epoch_seconds_or_seconds_until_reset(string header, string expected)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation("X-RateLimit-Reset", header);

        Assert.Equal(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture), HarvestRateLimiter.ReadReset(response.Headers, Start));
    }

    private static (HarvestRateLimiter Limiter, FakeTimeProvider Time, HarvestStatus Status) Create(double reserved = 0.1)
    {
        var time = new FakeTimeProvider(Start);
        var status = new HarvestStatus(time);
        var options = Options.Create(new HarvestOptions { ReservedBudgetShare = reserved, RateLimitResetMargin = TimeSpan.FromMilliseconds(50) });
        return (new HarvestRateLimiter(options, status, time), time, status);
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, int limit, int remaining, DateTimeOffset reset)
    {
        var response = new HttpResponseMessage(status);
        response.Headers.TryAddWithoutValidation("X-RateLimit-Limit", limit.ToString(CultureInfo.InvariantCulture));
        response.Headers.TryAddWithoutValidation("X-RateLimit-Remaining", remaining.ToString(CultureInfo.InvariantCulture));
        response.Headers.TryAddWithoutValidation("X-RateLimit-Reset", reset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        return response;
    }
}
