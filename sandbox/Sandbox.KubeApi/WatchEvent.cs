namespace Sandbox.KubeApi;

/// <summary>A change in storage. For DELETED, Object is the last state carrying the deletion's resourceVersion.</summary>
internal sealed record WatchEvent(string Type, long ResourceVersion, StoredObject? Object, StoredObject? Previous, bool InitialEventsEnd = false)
{
    public const string Added = "ADDED";
    public const string Modified = "MODIFIED";
    public const string Deleted = "DELETED";
    public const string Bookmark = "BOOKMARK";
}
