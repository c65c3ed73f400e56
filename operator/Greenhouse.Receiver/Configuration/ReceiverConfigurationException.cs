namespace Greenhouse.Receiver.Configuration;

/// <summary>A setting is missing or invalid; the message is one sentence naming the setting and the fix.</summary>
public sealed class ReceiverConfigurationException : Exception
{
    public ReceiverConfigurationException(string message) : base(message) { }

    public ReceiverConfigurationException() { }

    public ReceiverConfigurationException(string message, Exception innerException) : base(message, innerException) { }
}
