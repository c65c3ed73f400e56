using System.Net;

namespace Greenhouse.Harvest;

/// <summary>Harvest could not be reached or kept failing (5xx, network error, timeout) after the transient retries.</summary>
public sealed class HarvestUnavailableException : HarvestException
{
    public HarvestUnavailableException()
    {
    }

    public HarvestUnavailableException(string message)
        : base(message)
    {
    }

    public HarvestUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public HarvestUnavailableException(string message, HttpStatusCode? statusCode, Exception? innerException = null)
        : base(message, statusCode, innerException)
    {
    }
}
