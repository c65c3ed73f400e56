using System.Net;

namespace Greenhouse.Harvest;

/// <summary>Harvest kept answering 429 after the client waited as told <see cref="HarvestOptions.MaxThrottledRetries"/> times.</summary>
public sealed class HarvestRateLimitedException : HarvestException
{
    public HarvestRateLimitedException()
    {
    }

    public HarvestRateLimitedException(string message)
        : base(message, HttpStatusCode.TooManyRequests)
    {
    }

    public HarvestRateLimitedException(string message, Exception? innerException)
        : base(message, HttpStatusCode.TooManyRequests, innerException)
    {
    }

    public HarvestRateLimitedException(string message, TimeSpan? retryAfter)
        : base(message, HttpStatusCode.TooManyRequests)
    {
        RetryAfter = retryAfter;
    }

    public TimeSpan? RetryAfter { get; }
}
