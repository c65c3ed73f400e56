using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>One stored object. Its JSON tree is never mutated once stored: writers clone first.</summary>
internal sealed class StoredObject
{
    private byte[]? _json;

    public StoredObject(string storageKey, JsonObject obj, long resourceVersion)
    {
        StorageKey = storageKey;
        KubeApi.Json.Materialize(obj);
        Object = obj;
        ResourceVersion = resourceVersion;
        Namespace = KubeApi.Json.MetaString(obj, "namespace") ?? "";
        Name = KubeApi.Json.MetaString(obj, "name") ?? "";
        Uid = KubeApi.Json.MetaString(obj, "uid") ?? "";
    }

    public string StorageKey { get; }

    public JsonObject Object { get; }

    public long ResourceVersion { get; }

    public string Namespace { get; }

    public string Name { get; }

    public string Uid { get; }

    /// <summary>Compact JSON of the stored form, computed once and shared by every reader.</summary>
    public byte[] Json => _json ??= KubeApi.Json.Bytes(Object);

    public JsonObject MutableCopy() => KubeApi.Json.Clone(Object);

    public bool IsDeleting => Object["metadata"]?["deletionTimestamp"] is not null;

    public List<string> Finalizers => KubeApi.Json.StringList(Object["metadata"]?["finalizers"]);

    public IEnumerable<string> OwnerUids =>
        Object["metadata"]?["ownerReferences"] is JsonArray refs
            ? refs.OfType<JsonObject>().Select(r => KubeApi.Json.String(r["uid"]) ?? "").Where(u => u.Length > 0)
            : [];
}
