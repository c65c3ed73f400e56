namespace Greenhouse.Operator.Reconciliation;

/// <summary>Writing an owned object failed; the message names the object and carries the API server's message (reported as ApplyFailed).</summary>
public sealed class OwnedObjectApplyException : Exception
{
    public OwnedObjectApplyException()
    {
    }

    public OwnedObjectApplyException(string message)
        : base(message)
    {
    }

    public OwnedObjectApplyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
