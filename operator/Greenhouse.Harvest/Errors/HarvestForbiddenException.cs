using System.Net;

namespace Greenhouse.Harvest;

/// <summary>Harvest answered 403: the credential lacks <see cref="Scope"/>, or the sync user is not allowed (list endpoints need a Site Admin).</summary>
public sealed class HarvestForbiddenException : HarvestException
{
    public HarvestForbiddenException()
    {
    }

    public HarvestForbiddenException(string message)
        : base(message, HttpStatusCode.Forbidden)
    {
    }

    public HarvestForbiddenException(string message, Exception? innerException)
        : base(message, HttpStatusCode.Forbidden, innerException)
    {
    }

    public HarvestForbiddenException(string message, string scope)
        : base(message, HttpStatusCode.Forbidden)
    {
        Scope = scope;
    }

    /// <summary>The OAuth scope the refused operation needs, e.g. <c>harvest:candidates:list</c>.</summary>
    public string? Scope { get; }
}
