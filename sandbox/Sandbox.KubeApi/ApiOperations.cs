using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>Result of a verb: HTTP code and the body in the requested (external) form.</summary>
internal sealed record ApiResult(int Code, JsonObject Body);

/// <summary>A page of a list answer.</summary>
internal sealed record ListPage(List<StoredObject> Items, long ResourceVersion, string? Continue, long? RemainingItemCount);

/// <summary>
/// The verbs of the API server on stored objects: create, get, list, update, patch, delete, with the
/// rules of kube-apiserver's generic registry store (resourceVersion, generation, status subresource,
/// finalizers, no-op writes).
/// </summary>
internal sealed class ApiOperations
{
    private const string GenerateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    private readonly ObjectStore _store;
    private readonly ResourceRegistry _registry;
    private readonly Admission _admission = new();
    private readonly AppliedFieldSets _applied = new();
    private readonly TimeProvider _time;
    private readonly FaultInjector _faults;

    public ApiOperations(ObjectStore store, ResourceRegistry registry, TimeProvider time, FaultInjector faults)
    {
        _store = store;
        _registry = registry;
        _time = time;
        _faults = faults;
    }

    public ObjectStore Store => _store;

    public ResourceRegistry Registry => _registry;

    public TimeProvider Time => _time;

    // ---------------- representation ----------------

    /// <summary>The stored object as the given resource version presents it.</summary>
    public static JsonObject ToExternal(ResourceType type, JsonObject stored)
    {
        if (type.Group == "events.k8s.io")
        {
            return EventConversion.ToEvents(stored);
        }

        var copy = Json.Clone(stored);
        copy["apiVersion"] = type.ApiVersion;
        copy["kind"] = type.Kind;
        return copy;
    }

    /// <summary>JSON bytes of a stored object for this resource version, reusing the cached bytes when no conversion is needed.</summary>
    public static byte[] Render(ResourceType type, StoredObject o) =>
        NeedsConversion(type, o) ? Json.Bytes(ToExternal(type, o.Object)) : o.Json;

    private static bool NeedsConversion(ResourceType type, StoredObject o) =>
        type.Group == "events.k8s.io" || Json.String(o.Object["apiVersion"]) != type.ApiVersion;

    private static JsonObject ToStorage(ResourceType type, JsonObject external) =>
        type.Group == "events.k8s.io" ? EventConversion.ToCore(external) : external;

    // ---------------- get / list ----------------

    public JsonObject Get(ResourceType type, string ns, string name)
    {
        lock (_store.Gate)
        {
            var o = _store.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
            return ToExternal(type, o.Object);
        }
    }

    public StoredObject GetStored(ResourceType type, string ns, string name)
    {
        lock (_store.Gate)
        {
            return _store.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
        }
    }

    public ListPage List(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, int? limit, string? continueToken)
    {
        (string Ns, string Name)? after = null;
        if (!string.IsNullOrEmpty(continueToken))
        {
            after = DecodeContinue(continueToken);
        }

        lock (_store.Gate)
        {
            var items = new List<StoredObject>();
            long remaining = 0;
            string? next = null;
            foreach (var o in _store.Items(type.StorageKey, ns))
            {
                if (after is { } a && ObjectStore.KeyOrder.Compare((o.Namespace, o.Name), a) <= 0)
                {
                    continue;
                }

                if (!Matches(o.Object, labels, fields))
                {
                    continue;
                }

                if (limit is { } l && l > 0 && items.Count >= l)
                {
                    remaining++;
                    continue;
                }

                items.Add(o);
            }

            if (remaining > 0)
            {
                var last = items[^1];
                next = EncodeContinue(_store.CurrentResourceVersionUnlocked(), last.Namespace, last.Name);
            }

            return new ListPage(items, _store.CurrentResourceVersionUnlocked(), next, remaining > 0 ? remaining : null);
        }
    }

    public static bool Matches(JsonObject obj, LabelSelector labels, FieldSelector fields) =>
        (labels.IsEmpty || labels.Matches(Json.Labels(obj))) && (fields.IsEmpty || fields.Matches(obj));

    private static string EncodeContinue(long rv, string ns, string name) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(Json.Text(new JsonObject { ["rv"] = rv, ["ns"] = ns, ["name"] = name })));

    private static (string, string) DecodeContinue(string token)
    {
        try
        {
            var node = JsonNode.Parse(Convert.FromBase64String(token))!.AsObject();
            return (Json.String(node["ns"]) ?? "", Json.String(node["name"]) ?? "");
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or NullReferenceException)
        {
            throw ApiException.BadRequest("continue key is not valid: illegal base64 data");
        }
    }

    // ---------------- create ----------------

    public ApiResult Create(ResourceType type, string ns, JsonObject body, WriteOptions options)
    {
        lock (_store.Gate)
        {
            var stored = CreateLocked(type, ns, body, options);
            RecordWrite(type, null, stored, options);
            return new ApiResult(201, ToExternal(type, stored));
        }
    }

    private JsonObject CreateLocked(ResourceType type, string ns, JsonObject body, WriteOptions options)
    {
        CheckKind(type, body, requireForCustom: true);
        var obj = ToStorage(type, Json.Clone(body));
        obj["apiVersion"] = type.Group == "events.k8s.io" ? "v1" : type.ApiVersion;
        obj["kind"] = type.Kind;
        var meta = Json.Metadata(obj);
        CheckNamespace(type, ns, meta);
        if (!string.IsNullOrEmpty(Json.String(meta["resourceVersion"])))
        {
            throw new ApiException(500, "", "resourceVersion should not be set on objects to be created");
        }

        var name = Json.String(meta["name"]) ?? "";
        if (name.Length == 0)
        {
            var prefix = Json.String(meta["generateName"]) ?? "";
            if (prefix.Length == 0)
            {
                throw ApiException.Invalid(type, "", [FieldError.Required("metadata.name", "name or generateName is required")]);
            }

            name = GenerateName(type, ns, prefix);
            meta["name"] = name;
        }

        if (type.Namespaced)
        {
            EnsureNamespaceAcceptsContent(type, ns, name);
        }

        meta.Remove("deletionTimestamp");
        meta.Remove("deletionGracePeriodSeconds");
        meta.Remove("selfLink");
        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = Json.FormatTime(_time.GetUtcNow());
        if (type.Generation != GenerationPolicy.None)
        {
            meta["generation"] = 1;
        }
        else
        {
            meta.Remove("generation");
        }

        if (type.HasStatus)
        {
            obj.Remove("status");
        }

        _admission.Prepare(type, obj, null, options);
        if (type.Is("apiextensions.k8s.io", "customresourcedefinitions"))
        {
            // Deleting a CRD waits until its custom resources are gone, as in a real cluster.
            var finalizers = Json.StringList(meta["finalizers"]);
            if (!finalizers.Contains("customresourcecleanup.apiextensions.k8s.io"))
            {
                finalizers.Add("customresourcecleanup.apiextensions.k8s.io");
            }

            meta["finalizers"] = new JsonArray([.. finalizers.Select(f => (JsonNode)JsonValue.Create(f))]);
        }

        ReorderMetadata(obj);

        if (_store.Get(type.StorageKey, ns, name) is { } existing)
        {
            throw ApiException.AlreadyExists(type, name, existing.IsDeleting);
        }

        if (options.DryRun)
        {
            return obj;
        }

        var created = _store.Put(type.StorageKey, obj, null);
        ServeIfCrd(type, created);
        return created.Object;
    }

    /// <summary>A CRD is served as soon as it is stored, so a custom resource may follow in the very next request.</summary>
    private void ServeIfCrd(ResourceType type, StoredObject stored)
    {
        if (type.Is("apiextensions.k8s.io", "customresourcedefinitions") && !stored.IsDeleting)
        {
            _registry.ServeCrd(stored.Object);
        }
    }

    private string GenerateName(ResourceType type, string ns, string prefix)
    {
        if (prefix.Length > 58)
        {
            prefix = prefix[..58];
        }

        for (var attempt = 0; attempt < 8; attempt++)
        {
            var candidate = prefix + new string(RandomNumberGenerator.GetItems<char>(GenerateNameAlphabet, 5));
            if (_store.Get(type.StorageKey, ns, candidate) is null)
            {
                return candidate;
            }
        }

        throw ApiException.AlreadyExists(type, prefix, false);
    }

    private static void CheckKind(ResourceType type, JsonObject body, bool requireForCustom)
    {
        var kind = Json.String(body["kind"]);
        var apiVersion = Json.String(body["apiVersion"]);
        if (type.IsCustom && requireForCustom && (string.IsNullOrEmpty(kind) || string.IsNullOrEmpty(apiVersion)))
        {
            throw ApiException.BadRequest($"Object 'Kind' is missing in '{Truncate(Json.Text(body))}'");
        }

        if (!string.IsNullOrEmpty(kind) && kind != type.Kind)
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion})");
        }

        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != type.ApiVersion)
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion})");
        }
    }

    private static string Truncate(string s) => s.Length > 200 ? s[..200] : s;

    private static void CheckNamespace(ResourceType type, string ns, JsonObject meta)
    {
        var bodyNs = Json.String(meta["namespace"]);
        if (type.Namespaced)
        {
            if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
            {
                throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            meta["namespace"] = ns;
        }
        else
        {
            meta.Remove("namespace");
        }
    }

    private void EnsureNamespaceAcceptsContent(ResourceType type, string ns, string name)
    {
        var nsObj = _store.Get("namespaces", "", ns) ?? throw ApiException.NamespaceNotFound(ns);
        if (nsObj.IsDeleting)
        {
            throw ApiException.Forbidden(type, name, $"unable to create new content in namespace {ns} because it is being terminated");
        }
    }

    // ---------------- update ----------------

    public ApiResult Update(ResourceType type, string ns, string name, string? subresource, JsonObject body, WriteOptions options)
    {
        lock (_store.Gate)
        {
            var current = _store.Get(type.StorageKey, ns, name);
            if (current is null)
            {
                if (type.PutCreates && subresource is null)
                {
                    if (Json.MetaString(body, "name") is { } bodyName && bodyName != name)
                    {
                        throw ApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
                    }

                    Json.Metadata(body)["name"] = name;
                    return new ApiResult(201, ToExternal(type, CreateLocked(type, ns, body, options)));
                }

                throw ApiException.NotFound(type, name);
            }

            CheckKind(type, body, requireForCustom: false);
            var bodyMeta = Json.Metadata(body);
            if (Json.String(bodyMeta["name"]) is { } n && n.Length > 0 && n != name)
            {
                throw ApiException.BadRequest($"the name of the object ({n}) does not match the name on the URL ({name})");
            }

            var rv = Json.String(bodyMeta["resourceVersion"]);
            if (!string.IsNullOrEmpty(rv) && rv != current.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw ApiException.Conflict(type, name);
            }

            if (string.IsNullOrEmpty(rv) && type.UpdateRequiresResourceVersion)
            {
                throw ApiException.Invalid(type.IsCustom ? type.GroupResource : type.KindWithGroup, name,
                    [new FieldError("FieldValueInvalid", "metadata.resourceVersion", "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update")]);
            }

            CheckFaultConflict(type, name, options);
            var updated = CommitUpdate(type, current, ToStorage(type, Json.Clone(body)), subresource, options);
            if (subresource is null)
            {
                RecordWrite(type, current.Object, _store.Get(type.StorageKey, ns, name)?.Object, options);
            }

            return updated;
        }
    }

    /// <summary>Field ownership of a create, update or non-apply patch (server-side apply's "Update" managers).</summary>
    private void RecordWrite(ResourceType type, JsonObject? before, JsonObject? after, WriteOptions options)
    {
        if (after is null || options.DryRun || options.Internal || Json.MetaString(after, "uid") is not { } uid)
        {
            return;
        }

        _applied.RecordWrite(uid, string.IsNullOrEmpty(options.FieldManager) ? "unknown" : options.FieldManager, before, after, !type.IsCustom);
    }

    private void CheckFaultConflict(ResourceType type, string name, WriteOptions options)
    {
        if (!options.Internal && _faults.TakeConflict(type.Plural))
        {
            throw ApiException.Conflict(type, name);
        }
    }

    /// <summary>Imposes the server-owned fields and subresource rules, then stores the change unless it is a no-op.</summary>
    private ApiResult CommitUpdate(ResourceType type, StoredObject current, JsonObject incoming, string? subresource, WriteOptions options)
    {
        var result = Merge(type, current, incoming, subresource);
        _admission.Prepare(type, result, current, options);
        BumpGeneration(type, current.Object, result, subresource);
        ReorderMetadata(result);

        Json.Metadata(result)["resourceVersion"] = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        if (Json.Equal(result, current.Object))
        {
            return new ApiResult(200, ToExternal(type, current.Object));
        }

        if (options.DryRun)
        {
            return new ApiResult(200, ToExternal(type, result));
        }

        if (ReadyToRemove(type, result))
        {
            RemoveStored(current);
            return new ApiResult(200, ToExternal(type, result));
        }

        var stored = _store.Put(type.StorageKey, result, current);
        ServeIfCrd(type, stored);
        return new ApiResult(200, ToExternal(type, stored.Object));
    }

    private static JsonObject Merge(ResourceType type, StoredObject current, JsonObject incoming, string? subresource)
    {
        if (subresource == "status")
        {
            var kept = current.MutableCopy();
            if (incoming["status"] is { } status)
            {
                kept["status"] = status.DeepClone();
            }
            else
            {
                kept.Remove("status");
            }

            return kept;
        }

        if (subresource == "finalize")
        {
            var kept = current.MutableCopy();
            var spec = kept["spec"] as JsonObject ?? new JsonObject();
            spec["finalizers"] = incoming["spec"]?["finalizers"]?.DeepClone() ?? new JsonArray();
            kept["spec"] = spec;
            return kept;
        }

        var result = incoming;
        result["apiVersion"] = current.Object["apiVersion"]?.DeepClone();
        result["kind"] = type.Kind;
        var meta = Json.Metadata(result);
        var old = current.Object["metadata"]!.AsObject();
        var uid = Json.String(meta["uid"]);
        if (!string.IsNullOrEmpty(uid) && uid != current.Uid)
        {
            throw ApiException.Invalid(type, current.Name, [FieldError.Invalid("metadata.uid", meta["uid"]?.DeepClone(), "field is immutable")]);
        }

        foreach (var field in new[] { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace" })
        {
            if (old[field] is { } v)
            {
                meta[field] = v.DeepClone();
            }
            else
            {
                meta.Remove(field);
            }
        }

        meta.Remove("selfLink");
        if (type.HasStatus)
        {
            if (current.Object["status"] is { } status)
            {
                result["status"] = status.DeepClone();
            }
            else
            {
                result.Remove("status");
            }
        }

        return result;
    }

    private static void BumpGeneration(ResourceType type, JsonObject before, JsonObject after, string? subresource)
    {
        if (type.Generation == GenerationPolicy.None || subresource is not null)
        {
            return;
        }

        var changed = type.Generation switch
        {
            GenerationPolicy.Spec => !Json.Equal(WithoutKeys(before, "metadata", "status"), WithoutKeys(after, "metadata", "status")),
            GenerationPolicy.AllButMetadata => !Json.Equal(WithoutKeys(before, "metadata"), WithoutKeys(after, "metadata")),
            GenerationPolicy.SpecOrAnnotations => !Json.Equal(before["spec"], after["spec"]) || !Json.Equal(before["metadata"]?["annotations"], after["metadata"]?["annotations"]),
            _ => false,
        };
        if (changed)
        {
            var meta = Json.Metadata(after);
            meta["generation"] = (Json.Long(meta["generation"]) ?? 0) + 1;
        }
    }

    private static JsonObject WithoutKeys(JsonObject o, params string[] keys)
    {
        var copy = new JsonObject();
        foreach (var (k, v) in o)
        {
            if (!keys.Contains(k) && k is not ("apiVersion" or "kind"))
            {
                copy[k] = v?.DeepClone();
            }
        }

        return copy;
    }

    private static bool ReadyToRemove(ResourceType type, JsonObject obj)
    {
        var meta = obj["metadata"];
        if (meta?["deletionTimestamp"] is null || Json.StringList(meta["finalizers"]).Count > 0)
        {
            return false;
        }

        return type.Plural != "namespaces" || Json.StringList(obj["spec"]?["finalizers"]).Count == 0;
    }

    /// <summary>Keeps a stable key order in metadata so equal content compares (and prints) equal.</summary>
    private static void ReorderMetadata(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject meta)
        {
            return;
        }

        if (meta["finalizers"] is JsonArray { Count: 0 })
        {
            meta.Remove("finalizers");
        }

        if (meta["ownerReferences"] is JsonArray { Count: 0 })
        {
            meta.Remove("ownerReferences");
        }

        if (meta["labels"] is JsonObject { Count: 0 })
        {
            meta.Remove("labels");
        }

        if (meta["annotations"] is JsonObject { Count: 0 })
        {
            meta.Remove("annotations");
        }

        string[] order = ["name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields"];
        var entries = meta.ToList();
        meta.Clear();
        foreach (var key in order)
        {
            var e = entries.Find(kv => kv.Key == key);
            if (e.Key is not null)
            {
                meta[key] = e.Value;
            }
        }

        foreach (var (k, v) in entries)
        {
            if (!order.Contains(k))
            {
                meta[k] = v;
            }
        }
    }

    // ---------------- patch ----------------

    public ApiResult Patch(ResourceType type, string ns, string name, string? subresource, string contentType, JsonNode patch, WriteOptions options)
    {
        var isApply = contentType == "application/apply-patch+yaml";
        if (!isApply && options.Force is not null)
        {
            throw ApiException.Invalid("PatchOptions.meta.k8s.io", "", [FieldError.Forbidden("force", "may not be specified for non-apply patch")], "meta.k8s.io", "PatchOptions");
        }

        if (isApply && string.IsNullOrEmpty(options.FieldManager))
        {
            throw ApiException.Invalid("PatchOptions.meta.k8s.io", "", [FieldError.Required("fieldManager", "is required for apply patch")], "meta.k8s.io", "PatchOptions");
        }

        if (contentType == "application/strategic-merge-patch+json" && type.IsCustom)
        {
            throw ApiException.UnsupportedMediaType("application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
        }

        lock (_store.Gate)
        {
            var current = _store.Get(type.StorageKey, ns, name);
            if (current is null)
            {
                if (isApply && subresource is null && patch is JsonObject applied)
                {
                    if (Json.MetaString(applied, "name") != name)
                    {
                        throw ApiException.BadRequest("metadata.name must match the name in the URL for an apply patch");
                    }

                    var created = CreateLocked(type, ns, applied, options);
                    if (!options.DryRun)
                    {
                        _applied.Record(Json.MetaString(created, "uid")!, options.FieldManager!, AppliedFieldSets.PathsOf(applied, !type.IsCustom));
                    }

                    return new ApiResult(201, ToExternal(type, created));
                }

                throw ApiException.NotFound(type, name);
            }

            if (patch is JsonObject po && Json.String(po["metadata"]?["resourceVersion"]) is { Length: > 0 } prv
                && prv != current.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw ApiException.Conflict(type, name);
            }

            CheckFaultConflict(type, name, options);
            var external = ToExternal(type, current.Object);
            var appliedPaths = isApply && patch is JsonObject appliedObject ? AppliedFieldSets.PathsOf(appliedObject, !type.IsCustom) : null;
            if (appliedPaths is not null && options.Force != true
                && _applied.Conflicts(current.Uid, options.FieldManager!, appliedPaths, ToStorage(type, Json.Clone((JsonObject)patch)), current.Object) is { Count: > 0 } conflicts)
            {
                var noun = conflicts.Count == 1 ? "conflict" : "conflicts";
                throw new ApiException(409, "Conflict", $"Apply failed with {conflicts.Count} {noun}: {string.Join(", ", conflicts)}", new JsonObject { ["name"] = name, ["kind"] = type.Plural });
            }

            JsonObject patched = contentType switch
            {
                "application/json-patch+json" => Patches.ApplyJsonPatch(external, patch),
                "application/merge-patch+json" => Patches.MergePatch(external, RequireObject(patch)) as JsonObject ?? throw ApiException.BadRequest("merge patch must be an object"),
                "application/strategic-merge-patch+json" => Patches.StrategicMerge(external, RequireObject(patch)),
                "application/apply-patch+yaml" => Apply(type, _applied.RemoveAbandoned(current.Uid, options.FieldManager!, appliedPaths!, external, !type.IsCustom), RequireObject(patch)),
                _ => throw ApiException.UnsupportedMediaType("application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"),
            };
            Json.Metadata(patched)["resourceVersion"] = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            CheckKind(type, patched, requireForCustom: false);
            if (Json.MetaString(patched, "name") != name)
            {
                throw ApiException.BadRequest($"the name of the object ({Json.MetaString(patched, "name")}) does not match the name on the URL ({name})");
            }

            var result = CommitUpdate(type, current, ToStorage(type, patched), subresource, options);
            if (appliedPaths is not null && !options.DryRun)
            {
                _applied.Record(current.Uid, options.FieldManager!, appliedPaths, options.Force == true);
            }
            else if (subresource is null)
            {
                RecordWrite(type, current.Object, _store.Get(type.StorageKey, ns, name)?.Object, options);
            }

            return result;
        }
    }

    private static JsonObject RequireObject(JsonNode patch) =>
        patch as JsonObject ?? throw ApiException.BadRequest("the patch body must be a JSON object");

    private static JsonObject Apply(ResourceType type, JsonObject live, JsonObject applied)
    {
        if (applied["metadata"]?["managedFields"] is not null)
        {
            throw ApiException.BadRequest("metadata.managedFields must be nil");
        }

        return type.IsCustom
            ? (JsonObject)Patches.MergePatch(live, applied)!
            : Patches.StrategicMerge(live, applied);
    }

    // ---------------- delete ----------------

    public ApiResult Delete(ResourceType type, string ns, string name, DeleteOptions options)
    {
        lock (_store.Gate)
        {
            var current = _store.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
            if (options.PreconditionUid is { Length: > 0 } uid && uid != current.Uid)
            {
                throw new ApiException(409, "Conflict", $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid}", new JsonObject { ["name"] = name, ["kind"] = type.Plural });
            }

            if (options.PreconditionResourceVersion is { Length: > 0 } prv && prv != current.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw ApiException.Conflict(type, name);
            }

            if (!options.Internal)
            {
                CheckFaultConflict(type, name, new WriteOptions());
            }

            return DeleteLocked(type, current, options);
        }
    }

    /// <summary>Deletes an object the controllers found (garbage collection, namespace and CRD cleanup).</summary>
    public void DeleteInternal(StoredObject target, string? propagation)
    {
        lock (_store.Gate)
        {
            var current = _store.Get(target.StorageKey, target.Namespace, target.Name);
            if (current is null || current.Uid != target.Uid)
            {
                return;
            }

            var type = BuiltinFor(current);
            if (type is null)
            {
                RemoveStored(current);
                return;
            }

            DeleteLocked(type, current, new DeleteOptions { PropagationPolicy = propagation, Internal = true, GracePeriodSeconds = 0 });
        }
    }

    private ResourceType? BuiltinFor(StoredObject o) => _registry.All.FirstOrDefault(t => t.StorageKey == o.StorageKey);

    private ApiResult DeleteLocked(ResourceType type, StoredObject current, DeleteOptions options)
    {
        var obj = current.MutableCopy();
        var meta = Json.Metadata(obj);
        var finalizers = Json.StringList(meta["finalizers"]);
        switch (options.PropagationPolicy)
        {
            case "Foreground":
                finalizers.Remove("orphan");
                if (!finalizers.Contains("foregroundDeletion"))
                {
                    finalizers.Add("foregroundDeletion");
                }

                break;
            case "Orphan":
                finalizers.Remove("foregroundDeletion");
                if (!finalizers.Contains("orphan"))
                {
                    finalizers.Add("orphan");
                }

                break;
            default:
                finalizers.Remove("orphan");
                finalizers.Remove("foregroundDeletion");
                break;
        }

        meta["finalizers"] = new JsonArray([.. finalizers.Select(f => (JsonNode)JsonValue.Create(f))]);
        var now = _time.GetUtcNow();
        var isNamespace = type.Plural == "namespaces";
        long grace = 0;
        var graceful = type.Plural == "pods" && PodNeedsGrace(current.Object, options, out grace);
        if (current.IsDeleting && type.Plural == "pods" && !graceful && finalizers.Count == 0 && !options.DryRun)
        {
            // The kubelet's final delete with grace 0 ends a graceful pod deletion.
            var removed = RemoveStored(current);
            return new ApiResult(200, ToExternal(type, removed.Object));
        }

        if (current.IsDeleting)
        {
            ReorderMetadata(obj);
            if (Json.Equal(obj, current.Object) || options.DryRun)
            {
                return new ApiResult(200, ToExternal(type, current.Object));
            }

            if (ReadyToRemove(type, obj))
            {
                RemoveStored(current);
                return new ApiResult(200, ToExternal(type, obj));
            }

            return new ApiResult(200, ToExternal(type, _store.Put(type.StorageKey, obj, current).Object));
        }

        if (finalizers.Count > 0 || isNamespace || graceful)
        {
            meta["deletionTimestamp"] = Json.FormatTime(graceful ? now.AddSeconds(grace) : now);
            meta["deletionGracePeriodSeconds"] = graceful ? grace : 0;
            if (Json.Long(meta["generation"]) is { } g && g > 0)
            {
                meta["generation"] = g + 1;
            }

            if (isNamespace)
            {
                obj["status"] = new JsonObject { ["phase"] = "Terminating" };
            }

            ReorderMetadata(obj);
            if (options.DryRun)
            {
                return new ApiResult(200, ToExternal(type, obj));
            }

            return new ApiResult(200, ToExternal(type, _store.Put(type.StorageKey, obj, current).Object));
        }

        if (options.DryRun)
        {
            return new ApiResult(200, SuccessStatus(type, current));
        }

        var gone = RemoveStored(current);
        return new ApiResult(200, type.DeleteReturnsObject ? ToExternal(type, gone.Object) : SuccessStatus(type, current));
    }

    private static bool PodNeedsGrace(JsonObject pod, DeleteOptions options, out long grace)
    {
        grace = options.GracePeriodSeconds ?? Json.Long(pod["spec"]?["terminationGracePeriodSeconds"]) ?? 30;
        var phase = Json.String(pod["status"]?["phase"]);
        return grace > 0 && !string.IsNullOrEmpty(Json.String(pod["spec"]?["nodeName"])) && phase is not ("Succeeded" or "Failed");
    }

    private StoredObject RemoveStored(StoredObject current)
    {
        _applied.Forget(current.Uid);
        return _store.Remove(current);
    }

    private static JsonObject SuccessStatus(ResourceType type, StoredObject o)
    {
        var details = new JsonObject { ["name"] = o.Name };
        if (type.Group.Length > 0)
        {
            details["group"] = type.Group;
        }

        details["kind"] = type.Plural;
        details["uid"] = o.Uid;
        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        };
    }

    // ---------------- controller helpers ----------------

    /// <summary>Applies a change to the latest stored state on behalf of a built-in controller.</summary>
    public void UpdateInternal(StoredObject target, Func<JsonObject, bool> change, string? subresource = null)
    {
        lock (_store.Gate)
        {
            var current = _store.Get(target.StorageKey, target.Namespace, target.Name);
            if (current is null || current.Uid != target.Uid)
            {
                return;
            }

            var type = BuiltinFor(current);
            var copy = current.MutableCopy();
            if (type is null || !change(copy))
            {
                return;
            }

            CommitUpdate(type, current, copy, subresource, WriteOptions.ForController);
        }
    }
}
