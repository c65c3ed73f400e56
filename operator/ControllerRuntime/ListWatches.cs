using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>
/// One generic <see cref="ListWatch{T}"/> for any kind, built-in or custom: the resource path comes from the model
/// type's <see cref="KubernetesEntityAttribute"/>, for one namespace or (with a null namespace) all, optionally
/// restricted by label and field selectors. Objects are decoded one by one, so an object that does not decode
/// (for example a custom resource stored under an older, looser schema) is reported through
/// <see cref="ListWatch{T}.Undecodable"/> and skipped instead of failing the whole list or watch.
/// </summary>
public static class ListWatches
{
    /// <summary>Objects per list page: a large kind is listed in pages so no single response has to be held whole.</summary>
    public const int PageSize = 100;

    /// <param name="transform">Applied to every object before it is cached (for example to drop what the cache need not hold).</param>
    /// <param name="wholeObject">
    /// Decides from an object's metadata whether the whole object is decoded; when false only the metadata is (the
    /// rest is never materialized, so large objects the cache does not need cost no memory).
    /// </param>
    public static ListWatch<T> For<T>(IKubernetes client, string? ns, string? labelSelector = null, string? fieldSelector = null, Func<T, T>? transform = null, Func<V1ObjectMeta, bool>? wholeObject = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        var path = ResourcePath.Of<T>();
        ListWatch<T>? self = null;
        self = new ListWatch<T>(
            path.Plural,
            async ct =>
            {
                var items = new List<T>();
                string? continueToken = null;
                var version = "";
                do
                {
                    var page = ns is null
                        ? await client.CustomObjects.ListClusterCustomObjectAsync<JsonElement>(path.Group, path.Version, path.Plural, continueParameter: continueToken, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: PageSize, cancellationToken: ct).ConfigureAwait(false)
                        : await client.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(path.Group, path.Version, ns, path.Plural, continueParameter: continueToken, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: PageSize, cancellationToken: ct).ConfigureAwait(false);
                    if (page.TryGetProperty("items", out var elements) && elements.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var element in elements.EnumerateArray())
                        {
                            if (Decode(self!, element, transform, wholeObject) is { } item)
                            {
                                items.Add(item);
                            }
                        }
                    }

                    continueToken = null;
                    if (page.TryGetProperty("metadata", out var meta))
                    {
                        version = meta.TryGetProperty("resourceVersion", out var rv) ? rv.GetString() ?? version : version;
                        continueToken = meta.TryGetProperty("continue", out var next) ? next.GetString() : null;
                    }
                }
                while (!string.IsNullOrEmpty(continueToken));

                return (items, version);
            },
            (rv, timeout, onError, ct) => Typed(self!, transform, wholeObject, ns is null
                ? client.CustomObjects.WatchListClusterCustomObjectAsync(path.Group, path.Version, path.Plural, allowWatchBookmarks: true, labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct)
                : client.CustomObjects.WatchListNamespacedCustomObjectAsync(path.Group, path.Version, ns, path.Plural, allowWatchBookmarks: true, labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: rv, timeoutSeconds: Seconds(timeout), onError: onError, cancellationToken: ct), ct));
        return self;
    }

    private static int Seconds(TimeSpan timeout) => Math.Max(1, (int)timeout.TotalSeconds);

    private static T? Decode<T>(ListWatch<T> source, JsonElement element, Func<T, T>? transform, Func<V1ObjectMeta, bool>? wholeObject)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        try
        {
            T item;
            if (wholeObject is not null && element.TryGetProperty("metadata", out var meta)
                && KubernetesJson.Deserialize<V1ObjectMeta>(meta) is { } metadata && !wholeObject(metadata))
            {
                item = Activator.CreateInstance<T>();
                item.Metadata = metadata;
            }
            else
            {
                item = KubernetesJson.Deserialize<T>(element);
            }

            return transform is null ? item : transform(item);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or InvalidOperationException or OverflowException)
        {
            source.ReportUndecodable(NameOf(element), ex);
            return null;
        }
    }

    private static string NameOf(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("metadata", out var meta) || meta.ValueKind != JsonValueKind.Object)
        {
            return "(unnamed)";
        }

        var name = meta.TryGetProperty("name", out var n) ? n.GetString() : null;
        var ns = meta.TryGetProperty("namespace", out var s) ? s.GetString() : null;
        return string.IsNullOrEmpty(ns) ? name ?? "(unnamed)" : $"{ns}/{name}";
    }

    private static async IAsyncEnumerable<(WatchEventType Type, T Object)> Typed<T>(
        ListWatch<T> source, Func<T, T>? transform, Func<V1ObjectMeta, bool>? wholeObject, IAsyncEnumerable<(WatchEventType Type, object Object)> events, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        await foreach (var (type, obj) in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var element = obj is JsonElement e ? e : JsonSerializer.SerializeToElement(obj);
            var plain = type is WatchEventType.Bookmark or WatchEventType.Error;
            var typed = Decode(source, element, plain ? null : transform, plain ? null : wholeObject);
            if (typed is not null)
            {
                yield return (type, typed);
            }
            else if (element.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("resourceVersion", out var rv) && rv.GetString() is { } version)
            {
                // Move the resume point past the skipped object, as a bookmark would.
                yield return (WatchEventType.Bookmark, ListWatch<T>.BookmarkAt(version));
            }
        }
    }
}
