using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Sandbox.KubeApi;

/// <summary>
/// The control-plane loops a real cluster runs beside the API server, reduced to what clients observe:
/// garbage collection by ownerReferences (background, foreground, orphan, dangling owners), CRD
/// establishment and cleanup, and namespace termination. Driven by the store's change feed.
/// </summary>
internal sealed partial class BuiltinControllers
{
    private const string CrdFinalizer = "customresourcecleanup.apiextensions.k8s.io";
    private readonly ApiOperations _ops;
    private readonly ObjectStore _store;
    private readonly ILogger _logger;

    public BuiltinControllers(ApiOperations ops, ILogger logger)
    {
        _ops = ops;
        _store = ops.Store;
        _logger = logger;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in _store.Changes.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Handle(e);
                }
                catch (ApiException ex)
                {
                    LogControllerError(_logger, e.Object?.StorageKey, e.Object?.Name, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Server shutdown.
        }
    }

    private void Handle(WatchEvent e)
    {
        var o = e.Object!;
        if (e.Type == WatchEvent.Deleted)
        {
            OnDeleted(o);
            return;
        }

        if (o.StorageKey == "customresourcedefinitions.apiextensions.k8s.io")
        {
            OnCrd(o);
        }

        if (!o.IsDeleting)
        {
            DeleteIfAllOwnersGone(o);
            return;
        }

        var finalizers = o.Finalizers;
        if (finalizers.Contains("orphan"))
        {
            Orphan(o);
        }

        if (finalizers.Contains("foregroundDeletion"))
        {
            Foreground(o);
        }

        if (o.StorageKey == "namespaces")
        {
            CleanNamespace(o);
        }
    }

    private void OnDeleted(StoredObject gone)
    {
        if (gone.StorageKey == "customresourcedefinitions.apiextensions.k8s.io")
        {
            _ops.Registry.StopServing(gone.Name);
        }

        List<StoredObject> dependents;
        List<StoredObject> waitingOwners;
        StoredObject? ns = null;
        lock (_store.Gate)
        {
            dependents = [.. _store.Dependents(gone.Uid)];
            waitingOwners = [.. gone.OwnerUids.Select(_store.ByUid).OfType<StoredObject>().Where(x => x.IsDeleting)];
            if (gone.Namespace.Length > 0 && _store.Get("namespaces", "", gone.Namespace) is { IsDeleting: true } n)
            {
                ns = n;
            }
        }

        foreach (var d in dependents)
        {
            DeleteIfAllOwnersGone(d);
        }

        foreach (var owner in waitingOwners)
        {
            if (owner.Finalizers.Contains("foregroundDeletion"))
            {
                Foreground(owner);
            }
        }

        if (ns is not null)
        {
            CleanNamespace(ns);
        }

        var crd = _ops.Registry.All.FirstOrDefault(t => t.IsCustom && t.StorageKey == gone.StorageKey);
        if (crd is not null)
        {
            StoredObject? crdObject;
            lock (_store.Gate)
            {
                crdObject = _store.Get("customresourcedefinitions.apiextensions.k8s.io", "", crd.GroupResource);
            }

            if (crdObject is { IsDeleting: true })
            {
                OnCrd(crdObject);
            }
        }
    }

    private void DeleteIfAllOwnersGone(StoredObject o)
    {
        var owners = o.OwnerUids.ToList();
        if (owners.Count == 0)
        {
            return;
        }

        bool dangling;
        lock (_store.Gate)
        {
            dangling = owners.TrueForAll(uid => _store.ByUid(uid) is null);
        }

        if (dangling)
        {
            _ops.DeleteInternal(o, "Background");
        }
    }

    private void Foreground(StoredObject owner)
    {
        List<StoredObject> dependents;
        lock (_store.Gate)
        {
            dependents = [.. _store.Dependents(owner.Uid)];
        }

        foreach (var d in dependents.Where(d => !d.IsDeleting))
        {
            _ops.DeleteInternal(d, "Foreground");
        }

        lock (_store.Gate)
        {
            var blocking = _store.Dependents(owner.Uid).Any(d => BlocksOwner(d, owner.Uid));
            if (blocking)
            {
                return;
            }
        }

        _ops.UpdateInternal(owner, obj => RemoveFinalizer(obj, "foregroundDeletion"));
    }

    private static bool BlocksOwner(StoredObject dependent, string ownerUid) =>
        (dependent.Object["metadata"]?["ownerReferences"] as JsonArray)?.OfType<JsonObject>()
            .Any(r => Json.String(r["uid"]) == ownerUid && Json.IsTrue(r["blockOwnerDeletion"])) == true;

    private void Orphan(StoredObject owner)
    {
        List<StoredObject> dependents;
        lock (_store.Gate)
        {
            dependents = [.. _store.Dependents(owner.Uid)];
        }

        foreach (var d in dependents)
        {
            _ops.UpdateInternal(d, obj =>
            {
                if (obj["metadata"]?["ownerReferences"] is not JsonArray refs)
                {
                    return false;
                }

                var kept = refs.Where(r => Json.String(r?["uid"]) != owner.Uid).Select(r => r?.DeepClone()).ToArray();
                obj["metadata"]!["ownerReferences"] = new JsonArray(kept);
                return true;
            });
        }

        _ops.UpdateInternal(owner, obj => RemoveFinalizer(obj, "orphan"));
    }

    private static bool RemoveFinalizer(JsonObject obj, string finalizer)
    {
        var list = Json.StringList(obj["metadata"]?["finalizers"]);
        if (!list.Remove(finalizer))
        {
            return false;
        }

        obj["metadata"]!["finalizers"] = new JsonArray([.. list.Select(f => (JsonNode)JsonValue.Create(f))]);
        return true;
    }

    private void OnCrd(StoredObject crd)
    {
        if (!crd.IsDeleting)
        {
            if (!HasCondition(crd.Object, "Established", "True"))
            {
                _ops.UpdateInternal(crd, Establish, subresource: "status");
            }

            return;
        }

        if (!HasCondition(crd.Object, "Terminating", "True"))
        {
            _ops.UpdateInternal(crd, obj => SetCondition(obj, "Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress"), subresource: "status");
        }

        var spec = crd.Object["spec"]!;
        var storageKey = Json.String(spec["names"]?["plural"]) + "." + Json.String(spec["group"]);
        List<StoredObject> remaining;
        lock (_store.Gate)
        {
            remaining = [.. _store.Items(storageKey, null)];
        }

        foreach (var o in remaining.Where(o => !o.IsDeleting))
        {
            _ops.DeleteInternal(o, "Background");
        }

        lock (_store.Gate)
        {
            if (_store.Count(storageKey) > 0)
            {
                return;
            }
        }

        _store.CloseWatches(storageKey);
        _ops.UpdateInternal(crd, obj => RemoveFinalizer(obj, CrdFinalizer));
    }

    private bool Establish(JsonObject crd)
    {
        var spec = crd["spec"]!;
        var status = crd["status"] as JsonObject ?? new JsonObject();
        status["acceptedNames"] = spec["names"]?.DeepClone();
        var storage = (spec["versions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(v => Json.IsTrue(v["storage"]));
        status["storedVersions"] = new JsonArray(Json.String(storage?["name"]) ?? "v1");
        crd["status"] = status;
        SetCondition(crd, "NamesAccepted", "True", "NoConflicts", "no conflicts found");
        SetCondition(crd, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted");
        return true;
    }

    private static bool HasCondition(JsonObject obj, string type, string status) =>
        (obj["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Any(c => Json.String(c["type"]) == type && Json.String(c["status"]) == status) == true;

    private bool SetCondition(JsonObject obj, string type, string status, string reason, string message)
    {
        var st = obj["status"] as JsonObject ?? new JsonObject();
        obj["status"] = st;
        var conditions = st["conditions"] as JsonArray ?? new JsonArray();
        st["conditions"] = conditions;
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => Json.String(c["type"]) == type);
        if (existing is null)
        {
            existing = new JsonObject { ["type"] = type };
            conditions.Add(existing);
        }

        existing["status"] = status;
        existing["lastTransitionTime"] = Json.FormatTime(_ops.Time.GetUtcNow());
        existing["reason"] = reason;
        existing["message"] = message;
        return true;
    }

    private void CleanNamespace(StoredObject ns)
    {
        List<StoredObject> content;
        lock (_store.Gate)
        {
            content = [.. _store.NamespacedStorageKeysWithObjectsIn(ns.Name).SelectMany(k => _store.Items(k, ns.Name))];
        }

        foreach (var o in content.Where(o => !o.IsDeleting))
        {
            _ops.DeleteInternal(o, "Background");
        }

        lock (_store.Gate)
        {
            if (_store.NamespacedStorageKeysWithObjectsIn(ns.Name).Any())
            {
                return;
            }
        }

        _ops.UpdateInternal(ns, obj =>
        {
            obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray() };
            return true;
        }, subresource: "finalize");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Built-in controller could not process {StorageKey}/{Name}: {Reason}")]
    private static partial void LogControllerError(ILogger logger, string? storageKey, string? name, string reason);
}
