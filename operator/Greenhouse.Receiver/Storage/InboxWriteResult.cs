namespace Greenhouse.Receiver.Storage;

public enum InboxWriteResult
{
    Accepted,
    Duplicate,
    Unavailable,
}
