using System.Net;

namespace Greenhouse.Harvest;

/// <summary>One finished Harvest call, for metrics such as <c>greenhouse_harvest_requests_total{operation,status}</c>.</summary>
/// <param name="Operation">What the call did, e.g. <c>get candidates</c>, <c>add note</c>.</param>
/// <param name="StatusCode">Final HTTP status after retries; null when Harvest could not be reached.</param>
/// <param name="Duration">Time of the whole call including retries and rate-limit waits.</param>
public sealed class HarvestRequestCompletedEventArgs(string operation, HttpStatusCode? statusCode, TimeSpan duration) : EventArgs
{
    public string Operation { get; } = operation;

    public HttpStatusCode? StatusCode { get; } = statusCode;

    public TimeSpan Duration { get; } = duration;
}
