using k8s;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>
/// The informers of one kind across the watched namespaces: a single cluster-wide informer, or one
/// per namespace when the operator is restricted to a list. Reads go to the right one.
/// </summary>
public sealed class InformerSet<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Dictionary<string, Informer<T>> _byNamespace = [];
    private readonly Informer<T>? _clusterWide;

    public InformerSet(IReadOnlyCollection<string> namespaces, Func<string?, Informer<T>> create)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        ArgumentNullException.ThrowIfNull(create);
        if (namespaces.Count == 0)
        {
            _clusterWide = create(null);
            Informers = [_clusterWide];
        }
        else
        {
            foreach (var ns in namespaces.Distinct())
            {
                _byNamespace[ns] = create(ns);
            }

            Informers = [.. _byNamespace.Values];
        }
    }

    public IReadOnlyList<Informer<T>> Informers { get; }

    public T? Get(ObjectKey key) =>
        (_clusterWide ?? _byNamespace.GetValueOrDefault(key.Namespace))?.Get(key);

    /// <summary>Updates the cache with an object read from the API (see <see cref="Informer{T}.Refresh"/>).</summary>
    public void Refresh(T current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var ns = current.Metadata.NamespaceProperty ?? "";
        (_clusterWide ?? _byNamespace.GetValueOrDefault(ns))?.Refresh(current);
    }

    /// <summary>Makes an object this process wrote visible to <see cref="Get"/> before its watch event arrives.</summary>
    public void Remember(T written)
    {
        ArgumentNullException.ThrowIfNull(written);
        var ns = written.Metadata.NamespaceProperty ?? "";
        (_clusterWide ?? _byNamespace.GetValueOrDefault(ns))?.Remember(written);
    }

    public IReadOnlyList<T> ByIndex(string index, string value) =>
        [.. Informers.SelectMany(i => i.ByIndex(index, value))];

    /// <summary>Every value of an index across the informers (see <see cref="Informer{T}.IndexValues"/>).</summary>
    public IReadOnlyList<string> IndexValues(string index) =>
        [.. Informers.SelectMany(i => i.IndexValues(index)).Distinct(StringComparer.Ordinal)];

    public IReadOnlyList<T> List() => [.. Informers.SelectMany(i => i.List())];

    public void AddHandler(Action<InformerEvent<T>> handler)
    {
        foreach (var informer in Informers)
        {
            informer.AddHandler(handler);
        }
    }

    public void AddIndex(string name, Func<T, IEnumerable<string>> indexer)
    {
        foreach (var informer in Informers)
        {
            informer.AddIndex(name, indexer);
        }
    }
}
