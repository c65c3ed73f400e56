using System.Net;

namespace Greenhouse.Harvest;

/// <summary>Harvest answered 404: the record (or route) does not exist.</summary>
public sealed class HarvestNotFoundException : HarvestException
{
    public HarvestNotFoundException()
    {
    }

    public HarvestNotFoundException(string message)
        : base(message, HttpStatusCode.NotFound)
    {
    }

    public HarvestNotFoundException(string message, Exception? innerException)
        : base(message, HttpStatusCode.NotFound, innerException)
    {
    }
}
