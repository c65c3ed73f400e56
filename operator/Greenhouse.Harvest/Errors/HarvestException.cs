using System.Net;

namespace Greenhouse.Harvest;

/// <summary>Base of every failure the Harvest client reports; catch a subclass to act on one failure class.</summary>
public class HarvestException : Exception
{
    public HarvestException()
    {
    }

    public HarvestException(string message)
        : base(message)
    {
    }

    public HarvestException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public HarvestException(string message, HttpStatusCode? statusCode, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>HTTP status Harvest answered with, when there was an answer.</summary>
    public HttpStatusCode? StatusCode { get; }
}
