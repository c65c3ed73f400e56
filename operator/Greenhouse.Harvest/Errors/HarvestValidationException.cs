using System.Net;

namespace Greenhouse.Harvest;

/// <summary>Harvest answered 422: the request was understood but refused; <see cref="Errors"/> says why, per field when Harvest names one.</summary>
public sealed class HarvestValidationException : HarvestException
{
    public HarvestValidationException()
    {
    }

    public HarvestValidationException(string message)
        : base(message, HttpStatusCode.UnprocessableContent)
    {
    }

    public HarvestValidationException(string message, Exception? innerException)
        : base(message, HttpStatusCode.UnprocessableContent, innerException)
    {
    }

    public HarvestValidationException(string message, IReadOnlyList<HarvestFieldError> errors)
        : base(message, HttpStatusCode.UnprocessableContent)
    {
        Errors = errors;
    }

    public IReadOnlyList<HarvestFieldError> Errors { get; } = [];
}
