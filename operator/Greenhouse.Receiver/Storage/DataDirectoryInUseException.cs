namespace Greenhouse.Receiver.Storage;

/// <summary>Another process holds the data directory's lock.</summary>
public sealed class DataDirectoryInUseException : Exception
{
    public DataDirectoryInUseException()
    {
    }

    public DataDirectoryInUseException(string message)
        : base(message)
    {
    }

    public DataDirectoryInUseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
