using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Sandbox.KubeApi;

/// <summary>
/// Per-kind defaulting and validation that runs on every create and update, after the server-owned
/// metadata was imposed: the work of the real server's strategies and the CRD schema pipeline.
/// </summary>
internal sealed partial class Admission
{
    private int _nextClusterIp = 1;

    public void Prepare(ResourceType type, JsonObject obj, StoredObject? old, WriteOptions options)
    {
        var name = Json.MetaString(obj, "name") ?? "";
        var errors = new List<FieldError>();
        ValidateMetadata(type, obj, old, errors);

        if (type.IsCustom)
        {
            PrepareCustom(type, obj, options, errors);
        }
        else
        {
            TruncateTimes(obj);
            switch (type.Plural)
            {
                case "secrets":
                    PrepareSecret(obj, old, errors);
                    break;
                case "configmaps":
                    CheckImmutable(obj, old, errors, "data", "binaryData");
                    break;
                case "namespaces":
                    PrepareNamespace(obj, old);
                    break;
                case "deployments" or "replicasets":
                    PrepareWorkload(type, obj, old, errors);
                    break;
                case "pods":
                    if (obj["spec"] is JsonObject podSpec)
                    {
                        DefaultPodSpec(podSpec);
                    }

                    if (old is null)
                    {
                        obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
                    }

                    break;
                case "services":
                    PrepareService(obj, old, errors);
                    break;
                case "persistentvolumeclaims":
                    PreparePvc(obj, old);
                    break;
                case "networkpolicies":
                    PrepareNetworkPolicy(obj);
                    break;
                case "events":
                    ValidateEvent(type, obj, errors);
                    break;
                case "customresourcedefinitions":
                    PrepareCrd(obj, errors);
                    break;
                case "ingresses" when old is null:
                    obj["status"] ??= new JsonObject { ["loadBalancer"] = new JsonObject() };
                    break;
            }
        }

        if (errors.Count > 0)
        {
            throw ApiException.Invalid(type, name, errors);
        }
    }

    /// <summary>metav1.Time fields of built-in kinds that clients may send with fractions; the real server keeps whole seconds.</summary>
    private static readonly HashSet<string> TimeFields = new(StringComparer.Ordinal)
    {
        "lastTransitionTime", "lastUpdateTime", "lastProbeTime", "lastHeartbeatTime", "firstTimestamp", "lastTimestamp",
        "startedAt", "finishedAt", "startTime", "deprecatedFirstTimestamp", "deprecatedLastTimestamp",
    };

    private static void TruncateTimes(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(kv => kv.Key).ToList())
                {
                    if (TimeFields.Contains(key) && Json.String(o[key]) is { } text && text.Contains('.', StringComparison.Ordinal) && Json.ParseTime(o[key]) is { } t)
                    {
                        o[key] = Json.FormatTime(t);
                    }
                    else
                    {
                        TruncateTimes(o[key]);
                    }
                }

                break;
            case JsonArray a:
                foreach (var e in a)
                {
                    TruncateTimes(e);
                }

                break;
        }
    }

    // ---------------- metadata ----------------

    private static void ValidateMetadata(ResourceType type, JsonObject obj, StoredObject? old, List<FieldError> errors)
    {
        var meta = Json.Metadata(obj);
        var name = Json.String(meta["name"]) ?? "";
        if (old is null)
        {
            var problem = type.NameRule switch
            {
                NameRule.Label => name.Length <= 63 && DnsLabel().IsMatch(name) ? null : "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                NameRule.PathSegment => name is "." or ".." ? $"may not be '{name}'" : name.Contains('/', StringComparison.Ordinal) ? "may not contain '/'" : name.Contains('%', StringComparison.Ordinal) ? "may not contain '%'" : null,
                NameRule.Dns1035 => name.Length <= 63 && Dns1035().IsMatch(name) ? null : "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
                _ => name.Length <= 253 && LabelSelector.SubdomainRegex().IsMatch(name) ? null : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            };
            if (problem is not null)
            {
                errors.Add(FieldError.Invalid("metadata.name", meta["name"], problem));
            }
        }

        if (meta["labels"] is JsonObject labels)
        {
            foreach (var (k, v) in labels)
            {
                if (LabelSelector.KeyError(k) is { } ke)
                {
                    errors.Add(FieldError.Invalid("metadata.labels", JsonValue.Create(k), ke));
                }
                else if (Json.String(v) is not { } s || LabelSelector.ValueError(s) is not null)
                {
                    errors.Add(FieldError.Invalid($"metadata.labels", v?.DeepClone(), LabelSelector.ValueError(Json.String(v) ?? "?") ?? "must be a string"));
                }
            }
        }

        if (meta["annotations"] is JsonObject annotations)
        {
            var total = annotations.Sum(kv => kv.Key.Length + (Json.String(kv.Value)?.Length ?? 0));
            if (total > 256 * 1024)
            {
                errors.Add(FieldError.TooLong("metadata.annotations", 256 * 1024));
            }
        }

        if (meta["ownerReferences"] is JsonArray refs)
        {
            var controllers = 0;
            for (var i = 0; i < refs.Count; i++)
            {
                if (refs[i] is not JsonObject r)
                {
                    continue;
                }

                foreach (var field in new[] { "apiVersion", "kind", "name", "uid" })
                {
                    if (string.IsNullOrEmpty(Json.String(r[field])))
                    {
                        errors.Add(FieldError.Required($"metadata.ownerReferences[{i}].{field}", ""));
                    }
                }

                if (Json.IsTrue(r["controller"]))
                {
                    controllers++;
                }
            }

            if (controllers > 1)
            {
                errors.Add(FieldError.Invalid("metadata.ownerReferences", refs.DeepClone(), "Only one reference can have Controller set to true"));
            }
        }

        if (old is not null && old.IsDeleting)
        {
            var before = old.Finalizers.ToHashSet(StringComparer.Ordinal);
            if (Json.StringList(meta["finalizers"]).Any(f => !before.Contains(f)))
            {
                errors.Add(FieldError.Forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted"));
            }
        }
    }

    // ---------------- custom resources ----------------

    private static void PrepareCustom(ResourceType type, JsonObject obj, WriteOptions options, List<FieldError> errors)
    {
        if (type.Schema is not { } schema)
        {
            return;
        }

        var pruned = StructuralSchema.Prune(obj, schema);
        if (pruned.Count > 0)
        {
            if (options.FieldValidation == "Strict")
            {
                throw ApiException.BadRequest($"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: strict decoding error: {string.Join(", ", pruned.Select(p => $"unknown field \"{p}\""))}");
            }

            if (options.FieldValidation != "Ignore")
            {
                options.Warnings.AddRange(pruned.Select(p => $"unknown field \"{p}\""));
            }
        }

        StructuralSchema.ApplyDefaults(obj, schema);
        errors.AddRange(StructuralSchema.Validate(obj, schema, ""));
    }

    private static void PrepareCrd(JsonObject crd, List<FieldError> errors)
    {
        var spec = crd["spec"] as JsonObject;
        if (spec is null)
        {
            errors.Add(FieldError.Required("spec"));
            return;
        }

        var group = Json.String(spec["group"]) ?? "";
        var names = spec["names"] as JsonObject ?? new JsonObject();
        spec["names"] = names;
        var plural = Json.String(names["plural"]) ?? "";
        var kind = Json.String(names["kind"]) ?? "";
        if (!group.Contains('.', StringComparison.Ordinal))
        {
            errors.Add(FieldError.Invalid("spec.group", spec["group"]?.DeepClone(), "should be a domain with at least one dot"));
        }

        if (plural.Length == 0 || !DnsLabel().IsMatch(plural))
        {
            errors.Add(FieldError.Invalid("spec.names.plural", names["plural"]?.DeepClone(), "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"));
        }

        if (kind.Length == 0 || !char.IsUpper(kind[0]))
        {
            errors.Add(FieldError.Invalid("spec.names.kind", names["kind"]?.DeepClone(), "must be CamelCase starting with an upper-case letter"));
        }

        if (Json.MetaString(crd, "name") != $"{plural}.{group}")
        {
            errors.Add(FieldError.Invalid("metadata.name", crd["metadata"]?["name"]?.DeepClone(), "must be spec.names.plural+\".\"+spec.group"));
        }

        var scope = Json.String(spec["scope"]);
        if (scope is not ("Namespaced" or "Cluster"))
        {
            errors.Add(FieldError.NotSupported("spec.scope", spec["scope"]?.DeepClone(), ["\"Cluster\"", "\"Namespaced\""]));
        }

        names["singular"] ??= kind.ToLowerInvariant();
        names["listKind"] ??= kind + "List";
        spec["conversion"] ??= new JsonObject { ["strategy"] = "None" };

        if (spec["versions"] is not JsonArray versions || versions.Count == 0)
        {
            errors.Add(FieldError.Required("spec.versions", "must have exactly one version marked as storage version"));
            return;
        }

        var storage = 0;
        for (var i = 0; i < versions.Count; i++)
        {
            if (versions[i] is not JsonObject v)
            {
                continue;
            }

            if (Json.IsTrue(v["storage"]))
            {
                storage++;
            }

            if (v["schema"]?["openAPIV3Schema"] is not JsonObject schema)
            {
                errors.Add(FieldError.Required($"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"));
                continue;
            }

            errors.AddRange(StructuralSchema.CheckStructural(schema, $"spec.versions[{i}].schema.openAPIV3Schema"));
        }

        if (storage != 1)
        {
            errors.Add(FieldError.Invalid("spec.versions", null, "must have exactly one version marked as storage version"));
        }
    }

    // ---------------- built-ins ----------------

    private static void PrepareSecret(JsonObject obj, StoredObject? old, List<FieldError> errors)
    {
        if (obj["stringData"] is JsonObject stringData)
        {
            var data = obj["data"] as JsonObject ?? new JsonObject();
            foreach (var (k, v) in stringData)
            {
                data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes(Json.Scalar(v) ?? ""));
            }

            obj["data"] = data;
            obj.Remove("stringData");
        }

        if (obj["data"] is JsonObject d)
        {
            foreach (var (k, v) in d)
            {
                var s = Json.String(v);
                if (s is null || !IsBase64(s))
                {
                    throw ApiException.BadRequest($"Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 0 (key \"{k}\")");
                }
            }
        }

        obj["type"] ??= "Opaque";
        CheckImmutable(obj, old, errors, "data");
        if (old is not null && Json.String(old.Object["type"]) is { } oldType && Json.String(obj["type"]) != oldType)
        {
            errors.Add(FieldError.Invalid("type", obj["type"]?.DeepClone(), "field is immutable"));
        }
    }

    private static bool IsBase64(string s)
    {
        var buffer = new byte[(s.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(s, buffer, out _);
    }

    private static void CheckImmutable(JsonObject obj, StoredObject? old, List<FieldError> errors, params string[] fields)
    {
        if (old is null || !Json.IsTrue(old.Object["immutable"]))
        {
            return;
        }

        foreach (var f in fields)
        {
            if (!Json.Equal(old.Object[f], obj[f]))
            {
                errors.Add(FieldError.Forbidden(f, "field is immutable when `immutable` is set"));
            }
        }

        if (!Json.IsTrue(obj["immutable"]))
        {
            errors.Add(FieldError.Forbidden("immutable", "field is immutable when `immutable` is set"));
        }
    }

    private static void PrepareNamespace(JsonObject obj, StoredObject? old)
    {
        var name = Json.MetaString(obj, "name") ?? "";
        var labels = Json.Metadata(obj)["labels"] as JsonObject ?? new JsonObject();
        labels["kubernetes.io/metadata.name"] = name;
        Json.Metadata(obj)["labels"] = labels;
        if (old is null)
        {
            obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
            obj["status"] = new JsonObject { ["phase"] = "Active" };
        }
    }

    private static void PrepareWorkload(ResourceType type, JsonObject obj, StoredObject? old, List<FieldError> errors)
    {
        if (obj["spec"] is not JsonObject spec)
        {
            errors.Add(FieldError.Required("spec"));
            return;
        }

        spec["replicas"] ??= 1;
        spec["revisionHistoryLimit"] ??= 10;
        if (type.Plural == "deployments")
        {
            spec["progressDeadlineSeconds"] ??= 600;
            spec["strategy"] ??= new JsonObject
            {
                ["type"] = "RollingUpdate",
                ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = "25%", ["maxSurge"] = "25%" },
            };
        }

        if (spec["selector"] is not JsonObject)
        {
            errors.Add(FieldError.Required("spec.selector"));
        }
        else if (old is not null && !Json.Equal(old.Object["spec"]?["selector"], spec["selector"]))
        {
            errors.Add(FieldError.Invalid("spec.selector", spec["selector"]?.DeepClone(), "field is immutable"));
        }

        if (spec["template"]?["spec"] is JsonObject podSpec)
        {
            DefaultPodSpec(podSpec);
        }

        spec["template"]?.AsObject().TryAdd("metadata", new JsonObject());
        if (old is null)
        {
            obj["status"] = new JsonObject();
        }
    }

    private static void DefaultPodSpec(JsonObject podSpec)
    {
        podSpec["restartPolicy"] ??= "Always";
        podSpec["terminationGracePeriodSeconds"] ??= 30;
        podSpec["dnsPolicy"] ??= "ClusterFirst";
        podSpec["schedulerName"] ??= "default-scheduler";
        podSpec["securityContext"] ??= new JsonObject();
        foreach (var list in new[] { "containers", "initContainers" })
        {
            foreach (var c in (podSpec[list] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                c["terminationMessagePath"] ??= "/dev/termination-log";
                c["terminationMessagePolicy"] ??= "File";
                var image = Json.String(c["image"]) ?? "";
                var lastPart = image[(image.LastIndexOf('/') + 1)..];
                c["imagePullPolicy"] ??= !lastPart.Contains(':', StringComparison.Ordinal) || lastPart.EndsWith(":latest", StringComparison.Ordinal) ? "Always" : "IfNotPresent";
                foreach (var p in (c["ports"] as JsonArray)?.OfType<JsonObject>() ?? [])
                {
                    p["protocol"] ??= "TCP";
                }
            }
        }
    }

    private void PrepareService(JsonObject obj, StoredObject? old, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject ?? new JsonObject();
        obj["spec"] = spec;
        spec["type"] ??= "ClusterIP";
        spec["sessionAffinity"] ??= "None";
        spec["internalTrafficPolicy"] ??= "Cluster";
        spec["ipFamilies"] ??= new JsonArray("IPv4");
        spec["ipFamilyPolicy"] ??= "SingleStack";
        var oldSpec = old?.Object["spec"] as JsonObject;
        if (oldSpec is not null)
        {
            var oldIp = Json.String(oldSpec["clusterIP"]);
            var newIp = Json.String(spec["clusterIP"]);
            if (newIp is null || newIp.Length == 0)
            {
                spec["clusterIP"] = oldIp;
                spec["clusterIPs"] = oldSpec["clusterIPs"]?.DeepClone();
            }
            else if (newIp != oldIp)
            {
                errors.Add(FieldError.Invalid("spec.clusterIPs[0]", spec["clusterIP"]?.DeepClone(), "may not change once set"));
            }
        }
        else if (string.IsNullOrEmpty(Json.String(spec["clusterIP"])))
        {
            var n = Interlocked.Increment(ref _nextClusterIp);
            var ip = string.Create(CultureInfo.InvariantCulture, $"10.96.{n / 250}.{(n % 250) + 1}");
            spec["clusterIP"] = ip;
            spec["clusterIPs"] = new JsonArray(ip);
        }
        else
        {
            spec["clusterIPs"] ??= new JsonArray(Json.String(spec["clusterIP"]));
        }

        foreach (var p in (spec["ports"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            p["protocol"] ??= "TCP";
            p["targetPort"] ??= p["port"]?.DeepClone();
        }

        if (old is null)
        {
            obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
        }
    }

    private static void PreparePvc(JsonObject obj, StoredObject? old)
    {
        if (obj["spec"] is JsonObject spec)
        {
            spec["volumeMode"] ??= "Filesystem";
        }

        if (old is null)
        {
            // Storage binds at once in the sandbox: no provisioner will ever come.
            obj["status"] = new JsonObject
            {
                ["phase"] = "Bound",
                ["accessModes"] = obj["spec"]?["accessModes"]?.DeepClone(),
                ["capacity"] = new JsonObject { ["storage"] = obj["spec"]?["resources"]?["requests"]?["storage"]?.DeepClone() },
            };
        }
    }

    private static void PrepareNetworkPolicy(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec)
        {
            return;
        }

        if (spec["policyTypes"] is null)
        {
            var types = new JsonArray("Ingress");
            if (spec["egress"] is JsonArray { Count: > 0 })
            {
                types.Add("Egress");
            }

            spec["policyTypes"] = types;
        }
    }

    private static void ValidateEvent(ResourceType type, JsonObject obj, List<FieldError> errors)
    {
        var ns = Json.MetaString(obj, "namespace") ?? "";
        if (obj["eventTime"] is null)
        {
            var involvedNs = Json.String(obj["involvedObject"]?["namespace"]) ?? "";
            if (involvedNs.Length > 0 && involvedNs != ns)
            {
                errors.Add(FieldError.Invalid("involvedObject.namespace", obj["involvedObject"]?["namespace"]?.DeepClone(), "does not match event.namespace"));
            }
        }
        else
        {
            if (string.IsNullOrEmpty(Json.String(obj["reportingComponent"])))
            {
                errors.Add(FieldError.Required("reportingController", ""));
            }

            if (string.IsNullOrEmpty(Json.String(obj["reportingInstance"])))
            {
                errors.Add(FieldError.Required("reportingInstance", ""));
            }

            if (string.IsNullOrEmpty(Json.String(obj["action"])))
            {
                errors.Add(FieldError.Required("action", ""));
            }

            if (string.IsNullOrEmpty(Json.String(obj["reason"])))
            {
                errors.Add(FieldError.Required("reason", ""));
            }
        }

        if ((Json.String(obj["message"])?.Length ?? 0) > 1024 && obj["eventTime"] is not null)
        {
            errors.Add(FieldError.TooLong(type.Group.Length == 0 ? "message" : "note", 1024));
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035();
}
