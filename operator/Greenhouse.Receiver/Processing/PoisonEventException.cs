namespace Greenhouse.Receiver.Processing;

/// <summary>The event can never be applied (its payload lacks what its action requires); it goes straight to the dead letters.</summary>
public sealed class PoisonEventException : Exception
{
    public PoisonEventException(string message) : base(message) { }

    public PoisonEventException() { }

    public PoisonEventException(string message, Exception innerException) : base(message, innerException) { }
}
