using k8s;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>
/// How an <see cref="Informer{T}"/> lists and watches one kind. List returns the items and the
/// list's resourceVersion; Watch streams changes after a resourceVersion (with bookmarks) until the
/// server ends the stream after about <c>timeout</c>.
/// </summary>
public sealed class ListWatch<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    public ListWatch(
        string resource,
        Func<CancellationToken, Task<(IList<T> Items, string ResourceVersion)>> list,
        Func<string, TimeSpan, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> watch)
    {
        Resource = resource;
        List = list;
        Watch = watch;
    }

    /// <summary>Name used in logs and metrics, e.g. "secrets".</summary>
    public string Resource { get; }

    public Func<CancellationToken, Task<(IList<T> Items, string ResourceVersion)>> List { get; }

    public Func<string, TimeSpan, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> Watch { get; }

    /// <summary>Called with "namespace/name" and the error for every object that could not be decoded and was skipped.</summary>
    public Action<string, Exception>? Undecodable { get; set; }

    internal void ReportUndecodable(string name, Exception error) => Undecodable?.Invoke(name, error);

    /// <summary>An empty object carrying only a resourceVersion, delivered as a bookmark.</summary>
    internal static T BookmarkAt(string resourceVersion)
    {
        var bookmark = Activator.CreateInstance<T>();
        bookmark.Metadata = new V1ObjectMeta { ResourceVersion = resourceVersion };
        return bookmark;
    }
}
