using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ControllerRuntime;

/// <summary>
/// Writes owned objects with server-side apply under one field manager, so the desired object is the whole
/// truth for the fields the manager owns: a field dropped from the desired state is removed by the server.
/// An apply is sent only when needed: when the observed object lacks a desired field or value, or when the
/// desired configuration changed since the last apply (its hash is kept in an annotation on the object), so a
/// reconcile that finds nothing to change makes no call. An object the cache has not seen is applied without
/// force: if someone else's object already has the name and differs, the server refuses (409) and the result
/// says <see cref="ApplyOutcome.NameConflict"/> instead of taking the object over.
/// </summary>
public sealed class ObjectApplier
{
    private readonly IKubernetes _client;

    // uid -> the resourceVersion last found to hold every desired field: an unchanged object is not compared again
    // (the comparison serializes the whole object), only its hash annotation is checked.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _verified = new(StringComparer.Ordinal);

    public ObjectApplier(IKubernetes client, string fieldManager, string hashAnnotation)
    {
        ArgumentException.ThrowIfNullOrEmpty(fieldManager);
        ArgumentException.ThrowIfNullOrEmpty(hashAnnotation);
        _client = client;
        FieldManager = fieldManager;
        HashAnnotation = hashAnnotation;
    }

    public string FieldManager { get; }

    /// <summary>Annotation holding the hash of the last applied configuration.</summary>
    public string HashAnnotation { get; }

    /// <summary>Hash of a desired object as applied (without the hash annotation itself).</summary>
    public string HashOf<T>(T desired)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var node = ObjectComparison.ToNode(desired)!.AsObject();
        if (node["metadata"]?["annotations"] is JsonObject annotations)
        {
            annotations.Remove(HashAnnotation);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(node.ToJsonString())))[..32];
    }

    /// <summary>True when applying <paramref name="desired"/> would change nothing on <paramref name="observed"/>.</summary>
    public bool IsUpToDate<T>(T? observed, T desired)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(desired);
        if (observed?.Metadata.Annotations?.TryGetValue(HashAnnotation, out var hash) != true || hash != HashOf(desired))
        {
            return false;
        }

        var (uid, version) = (observed.Metadata.Uid ?? "", observed.Metadata.ResourceVersion ?? "");
        if (uid.Length > 0 && _verified.TryGetValue(uid, out var verified) && verified == version)
        {
            return true;
        }

        if (!ObjectComparison.HasAllFieldsOf(observed, desired))
        {
            return false;
        }

        if (uid.Length > 0 && version.Length > 0)
        {
            _verified[uid] = version;
        }

        return true;
    }

    /// <summary>Forgets what was verified about a deleted object.</summary>
    public void Forget(string uid) => _verified.TryRemove(uid, out _);

    public async Task<ApplyResult<T>> ApplyAsync<T>(T desired, T? observed, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(desired);
        if (IsUpToDate(observed, desired))
        {
            return new ApplyResult<T>(ApplyOutcome.Unchanged, observed);
        }

        var body = ObjectComparison.ToNode(desired)!.AsObject();
        var metadata = body["metadata"]!.AsObject();
        var annotations = metadata["annotations"] as JsonObject ?? [];
        annotations[HashAnnotation] = HashOf(desired);
        metadata["annotations"] = annotations;
        var path = ResourcePath.Of<T>();
        var key = ObjectKey.Of(desired);
        try
        {
            // Objects we have seen are ours: force takes back fields someone else changed.
            // An object we have not seen may be someone else's: no force, so a differing one is refused.
            using var response = await _client.CustomObjects.PatchNamespacedCustomObjectWithHttpMessagesAsync(
                new V1Patch(body.ToJsonString(), V1Patch.PatchType.ApplyPatch),
                path.Group, path.Version, key.Namespace, path.Plural, key.Name,
                fieldManager: FieldManager, force: observed is not null, cancellationToken: cancellationToken).ConfigureAwait(false);
            var applied = KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(response.Body));
            return new ApplyResult<T>(ApplyOutcome.Applied, applied);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict && observed is null)
        {
            return new ApplyResult<T>(ApplyOutcome.NameConflict, null, StatusMessage(ex));
        }
    }

    /// <summary>Deletes an object; false when it was already gone.</summary>
    public async Task<bool> DeleteAsync<T>(ObjectKey key, string uid, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var path = ResourcePath.Of<T>();
        try
        {
            // The uid precondition never deletes a newer object of the same name.
            using var response = await _client.CustomObjects.DeleteNamespacedCustomObjectWithHttpMessagesAsync(
                path.Group, path.Version, key.Namespace, path.Plural, key.Name,
                body: new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = uid } },
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    private static string StatusMessage(HttpOperationException ex)
    {
        try
        {
            return KubernetesJson.Deserialize<V1Status>(ex.Response.Content)?.Message ?? ex.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return ex.Message;
        }
    }
}
