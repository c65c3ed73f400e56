using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Sandbox.KubeApi;

/// <summary>The HTTP surface: routing, content negotiation, faults, request log, watch streaming.</summary>
internal sealed partial class HttpFrontEnd
{
    private static readonly byte[] Newline = "\n"u8.ToArray();
    private readonly ApiOperations _ops;
    private readonly FaultInjector _faults;
    private readonly RequestLog _log;
    private readonly TimeProvider _time;
    private readonly KubeApiServerOptions _options;
    private readonly ILogger _logger;
    private readonly ApiSecurity _security;
    private readonly SecurityEndpoints _securityEndpoints;
    private readonly OwnerReferencePermissions _ownerReferences;

    public HttpFrontEnd(ApiOperations ops, FaultInjector faults, RequestLog log, KubeApiServerOptions options, ApiSecurity security, ILogger logger)
    {
        _security = security;
        _securityEndpoints = new SecurityEndpoints(security);
        _ownerReferences = new OwnerReferencePermissions(security.Authorizer, ops.Registry, ops.Store, options.OwnerReferencesPermissionEnforcement);
        _ops = ops;
        _faults = faults;
        _log = log;
        _time = options.TimeProvider;
        _options = options;
        _logger = logger;
        Logs = new PodLogStreamer(ops, options.TimeProvider);
    }

    public string ServerAddress { get; set; } = "127.0.0.1";

    /// <summary>pods/log (PodLogStreamer.cs).</summary>
    public PodLogStreamer Logs { get; }

    private ResourceRegistry Registry => _ops.Registry;

    public async Task HandleAsync(HttpContext ctx)
    {
        var arrived = _time.GetUtcNow();
        var route = Route(ctx.Request);
        var attributes = AuthorizationAttributes.FromRequest(ctx.Request.Method, ctx.Request.Path.Value ?? "/", k => ctx.Request.Query.TryGetValue(k, out var v) ? v.ToString() : null);
        UserInfo? user = null;
        var authorized = false;
        var admissionChecks = new List<AuthorizationCheck>();
        var logged = false;
        void Log(int code)
        {
            if (!logged)
            {
                logged = true;
                _log.Add(new RequestLogEntry(route.Verb, ctx.Request.Method, ctx.Request.Path.Value ?? "/", route.Type?.Group ?? route.Group, route.Type?.Plural, route.Subresource, route.Namespace, route.Name, code, arrived, ctx.Request.Headers.UserAgent.ToString())
                {
                    User = user?.Name,
                    Groups = user?.Groups ?? [],
                    Authorization = attributes,
                    Authorized = authorized,
                    AdmissionChecks = admissionChecks,
                });
            }
        }

        try
        {
            var latency = _faults.Latency;
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, _time, ctx.RequestAborted).ConfigureAwait(false);
            }

            user = _security.Identify(ctx.Request);
            _security.Authorize(user, attributes);
            authorized = true;
            await _ownerReferences.CheckAsync(ctx, user, attributes, admissionChecks).ConfigureAwait(false);
            if (await _securityEndpoints.TryServeAsync(ctx, attributes, user).ConfigureAwait(false))
            {
                return;
            }

            if (route.Special is null && _faults.TakeFailure(route.Type?.Plural) is { } code)
            {
                throw InjectedFailure(code);
            }

            if (route.NotFound)
            {
                throw ApiException.NotFoundPath();
            }

            if (route.Special is not null)
            {
                await ServeSpecialAsync(ctx, route).ConfigureAwait(false);
            }
            else if (route.Verb == "watch")
            {
                await WatchAsync(ctx, route, () => Log(200)).ConfigureAwait(false);
            }
            else
            {
                await ServeResourceAsync(ctx, route).ConfigureAwait(false);
            }
        }
        catch (ApiException ex)
        {
            if (!ctx.Response.HasStarted)
            {
                if (ex.RetryAfterSeconds is { } retry)
                {
                    ctx.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
                }

                await WriteAsync(ctx, ex.Code, ex.ToStatus()).ConfigureAwait(false);
            }
        }
        catch (JsonException ex)
        {
            await WriteAsync(ctx, 400, ApiException.BadRequest($"error decoding request body: {ex.Message}").ToStatus()).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException or NullReferenceException or IndexOutOfRangeException)
        {
            // An emulator bug must still answer like an API server would, and say what broke.
            LogUnexpected(_logger, ex, ctx.Request.Method, ctx.Request.Path.Value ?? "/");
            if (!ctx.Response.HasStarted)
            {
                await WriteAsync(ctx, 500, new ApiException(500, "InternalError", $"Internal error occurred: {ex.GetType().Name}: {ex.Message}").ToStatus()).ConfigureAwait(false);
            }
        }
        finally
        {
            Log(ctx.Response.StatusCode);
        }
    }

    private static ApiException InjectedFailure(int code) => code switch
    {
        429 => new ApiException(429, "TooManyRequests", "Too many requests, please try again later.", new JsonObject { ["retryAfterSeconds"] = 1 }) { RetryAfterSeconds = 1 },
        503 => new ApiException(503, "ServiceUnavailable", "the server is currently unable to handle the request (injected fault)"),
        504 => new ApiException(504, "Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded (injected fault)"),
        409 => new ApiException(409, "Conflict", "Operation cannot be fulfilled: the object has been modified (injected fault)"),
        _ => new ApiException(code, "InternalError", "Internal error occurred: injected fault"),
    };

    // ---------------- routing ----------------

    private RouteInfo Route(HttpRequest request)
    {
        var path = request.Path.Value ?? "/";
        var segs = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = request.Method;
        if (segs.Length == 0)
        {
            return new RouteInfo { Verb = "get", NotFound = true };
        }

        switch (segs[0])
        {
            case "version":
                return new RouteInfo { Verb = "get", Special = "version" };
            case "healthz" or "readyz" or "livez":
                return new RouteInfo { Verb = "get", Special = "health" };
            case "openapi":
                if (segs.Length == 2 && segs[1] == "v3")
                {
                    return new RouteInfo { Verb = "get", Special = "openapi" };
                }

                if (segs.Length >= 4 && segs[1] == "v3")
                {
                    var g = segs[2] == "api" ? "" : segs[3];
                    var v = segs[2] == "api" ? segs[3] : (segs.Length > 4 ? segs[4] : "");
                    return new RouteInfo { Verb = "get", Special = "openapi-gv", Group = g, Version = v };
                }

                return new RouteInfo { Verb = "get", NotFound = true };
            case "api":
                if (segs.Length == 1)
                {
                    return new RouteInfo { Verb = "get", Special = "api" };
                }

                if (segs[1] != "v1")
                {
                    return new RouteInfo { Verb = "get", NotFound = true };
                }

                return segs.Length == 2
                    ? new RouteInfo { Verb = "get", Special = "groupversion", Group = "", Version = "v1" }
                    : ResourceRoute("", "v1", segs[2..], method, request);
            case "apis":
                if (segs.Length == 1)
                {
                    return new RouteInfo { Verb = "get", Special = "apis" };
                }

                if (segs.Length == 2)
                {
                    return new RouteInfo { Verb = "get", Special = "group", Group = segs[1] };
                }

                if (segs.Length == 3)
                {
                    return new RouteInfo { Verb = "get", Special = "groupversion", Group = segs[1], Version = segs[2] };
                }

                return ResourceRoute(segs[1], segs[2], segs[3..], method, request);
            default:
                return new RouteInfo { Verb = "get", NotFound = true };
        }
    }

    private RouteInfo ResourceRoute(string group, string version, string[] rest, string method, HttpRequest request)
    {
        string? ns = null;
        if (rest.Length >= 3 && rest[0] == "namespaces" && Registry.Find(group, version, rest[2]) is { Namespaced: true })
        {
            ns = rest[1];
            rest = rest[2..];
        }

        var type = Registry.Find(group, version, rest[0]);
        var name = rest.Length > 1 ? rest[1] : null;
        var sub = rest.Length > 2 ? rest[2] : null;
        var isWatch = request.Query["watch"].ToString() is "true" or "1";
        var verb = (method, name is null) switch
        {
            ("GET", true) => isWatch ? "watch" : "list",
            ("GET", false) => "get",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", true) => "deletecollection",
            ("DELETE", false) => "delete",
            _ => method.ToLowerInvariant(),
        };
        var notFound = type is null || rest.Length > 3
            || (sub is not null && !SubresourceExists(type, sub))
            || (type.Namespaced && ns is null && name is not null)
            || (type.Namespaced && ns is null && verb == "create");
        return new RouteInfo { Verb = verb, Type = type, Group = group, Version = version, Namespace = ns, Name = name, Subresource = sub, NotFound = notFound };
    }

    private static bool SubresourceExists(ResourceType type, string sub) => sub switch
    {
        "status" => type.HasStatus,
        "scale" => type.Scale is not null,
        "finalize" => type.Plural == "namespaces" && type.Group.Length == 0,
        "log" => type.Plural == "pods" && type.Group.Length == 0,
        _ => false,
    };

    // ---------------- non-resource endpoints ----------------

    private async Task ServeSpecialAsync(HttpContext ctx, RouteInfo route)
    {
        var accept = ctx.Request.Headers.Accept.ToString();
        var aggregated = accept.Contains("as=APIGroupDiscoveryList", StringComparison.Ordinal) && accept.Contains("v=v2", StringComparison.Ordinal);
        switch (route.Special)
        {
            case "version":
                await WriteAsync(ctx, 200, Discovery.Version()).ConfigureAwait(false);
                break;
            case "health":
                ctx.Response.ContentType = "text/plain";
                await ctx.Response.WriteAsync("ok", ctx.RequestAborted).ConfigureAwait(false);
                break;
            case "api" when aggregated:
                await WriteAsync(ctx, 200, Discovery.Aggregated(Registry, core: true), Discovery.AggregatedContentType).ConfigureAwait(false);
                break;
            case "apis" when aggregated:
                await WriteAsync(ctx, 200, Discovery.Aggregated(Registry, core: false), Discovery.AggregatedContentType).ConfigureAwait(false);
                break;
            case "api":
                await WriteAsync(ctx, 200, Discovery.ApiVersions(ServerAddress)).ConfigureAwait(false);
                break;
            case "apis":
                await WriteAsync(ctx, 200, Discovery.GroupList(Registry)).ConfigureAwait(false);
                break;
            case "group":
                await WriteAsync(ctx, 200, Discovery.Group(Registry, route.Group!) ?? throw ApiException.NotFoundPath()).ConfigureAwait(false);
                break;
            case "groupversion":
                if (!Registry.HasGroupVersion(route.Group!, route.Version!))
                {
                    throw ApiException.NotFoundPath();
                }

                await WriteAsync(ctx, 200, Discovery.ResourceList(Registry, route.Group!, route.Version!)).ConfigureAwait(false);
                break;
            case "openapi":
                await WriteAsync(ctx, 200, OpenApi.Index(Registry)).ConfigureAwait(false);
                break;
            case "openapi-gv":
                await WriteAsync(ctx, 200, OpenApi.GroupVersion(Registry, route.Group!, route.Version!) ?? throw ApiException.NotFoundPath()).ConfigureAwait(false);
                break;
            default:
                throw ApiException.NotFoundPath();
        }
    }

    // ---------------- resource verbs ----------------

    private async Task ServeResourceAsync(HttpContext ctx, RouteInfo route)
    {
        var type = route.Type!;
        var ns = route.Namespace ?? "";
        var query = ctx.Request.Query;
        var table = WantsTable(ctx.Request);
        if ((route.Verb == "create" && route.Name is not null) || (route.Verb is "update" or "patch" && route.Name is null))
        {
            throw ApiException.MethodNotAllowed();
        }

        switch (route.Verb)
        {
            case "get" when route.Subresource == "log":
                await Logs.ServeAsync(ctx, type, ns, route.Name!).ConfigureAwait(false);
                break;
            case "get" when route.Subresource == "scale":
                await WriteAsync(ctx, 200, Scale(type, _ops.GetStored(type, ns, route.Name!))).ConfigureAwait(false);
                break;
            case "get":
                {
                    var obj = _ops.Get(type, ns, route.Name!);
                    if (table)
                    {
                        await WriteAsync(ctx, 200, TableConverter.Build(type, [obj], null, null, _time.GetUtcNow()), TableConverter.ContentType).ConfigureAwait(false);
                    }
                    else
                    {
                        await WriteAsync(ctx, 200, obj).ConfigureAwait(false);
                    }

                    break;
                }

            case "list":
                await ListAsync(ctx, type, route.Namespace, table).ConfigureAwait(false);
                break;
            case "create":
                {
                    var body = await ReadObjectAsync(ctx).ConfigureAwait(false);
                    var options = WriteOptionsFrom(query);
                    var result = _ops.Create(type, ns, body, options);
                    await WriteResultAsync(ctx, result, options).ConfigureAwait(false);
                    break;
                }

            case "update" when route.Subresource == "scale":
                {
                    var body = await ReadObjectAsync(ctx).ConfigureAwait(false);
                    await WriteAsync(ctx, 200, UpdateScale(type, ns, route.Name!, body, WriteOptionsFrom(query))).ConfigureAwait(false);
                    break;
                }

            case "update":
                {
                    var body = await ReadObjectAsync(ctx).ConfigureAwait(false);
                    var options = WriteOptionsFrom(query);
                    var result = _ops.Update(type, ns, route.Name!, route.Subresource, body, options);
                    await WriteResultAsync(ctx, result, options).ConfigureAwait(false);
                    break;
                }

            case "patch":
                {
                    var contentType = MediaType(ctx.Request.ContentType);
                    var bytes = await ReadBodyAsync(ctx).ConfigureAwait(false);
                    var patch = ParseJson(bytes, contentType) ?? throw ApiException.BadRequest("the patch body is empty");
                    var options = WriteOptionsFrom(query);
                    if (route.Subresource == "scale")
                    {
                        var current = Scale(type, _ops.GetStored(type, ns, route.Name!));
                        var patchedScale = contentType == "application/json-patch+json" ? Patches.ApplyJsonPatch(current, patch) : (JsonObject)Patches.MergePatch(current, patch)!;
                        await WriteAsync(ctx, 200, UpdateScale(type, ns, route.Name!, patchedScale, options)).ConfigureAwait(false);
                        break;
                    }

                    var result = _ops.Patch(type, ns, route.Name!, route.Subresource, contentType, patch, options);
                    await WriteResultAsync(ctx, result, options).ConfigureAwait(false);
                    break;
                }

            case "delete":
                {
                    var options = await DeleteOptionsFromAsync(ctx).ConfigureAwait(false);
                    var result = _ops.Delete(type, ns, route.Name!, options);
                    await WriteAsync(ctx, result.Code, result.Body).ConfigureAwait(false);
                    break;
                }

            case "deletecollection":
                {
                    var options = await DeleteOptionsFromAsync(ctx).ConfigureAwait(false);
                    var page = _ops.List(type, route.Namespace, LabelSelector.Parse(query["labelSelector"]), FieldSelector.Parse(query["fieldSelector"], type), null, null);
                    var items = new JsonArray();
                    foreach (var o in page.Items)
                    {
                        try
                        {
                            _ops.Delete(type, o.Namespace, o.Name, options);
                            items.Add(ApiOperations.ToExternal(type, o.Object));
                        }
                        catch (ApiException ex) when (ex.Code == 404)
                        {
                            // Deleted meanwhile by someone else: nothing to do.
                        }
                    }

                    await WriteAsync(ctx, 200, new JsonObject { ["kind"] = type.ListKind, ["apiVersion"] = type.ApiVersion, ["metadata"] = new JsonObject(), ["items"] = items }).ConfigureAwait(false);
                    break;
                }

            default:
                throw ApiException.MethodNotAllowed();
        }
    }

    private static async Task WriteResultAsync(HttpContext ctx, ApiResult result, WriteOptions options)
    {
        foreach (var w in options.Warnings)
        {
            ctx.Response.Headers.Append("Warning", $"299 - \"{w.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        }

        await WriteAsync(ctx, result.Code, result.Body).ConfigureAwait(false);
    }

    private static JsonObject Scale(ResourceType type, StoredObject parent)
    {
        var paths = type.Scale!;
        var obj = parent.Object;
        var status = new JsonObject { ["replicas"] = SimpleJsonPath.Evaluate(obj, paths.StatusReplicasPath).FirstOrDefault()?.DeepClone() ?? 0 };
        if (paths.LabelSelectorPath is { } sel && SimpleJsonPath.Evaluate(obj, sel).FirstOrDefault() is { } selector)
        {
            status["selector"] = selector is JsonObject so ? SelectorString(so) : Json.Scalar(selector);
        }

        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = parent.Name,
                ["namespace"] = parent.Namespace.Length > 0 ? parent.Namespace : null,
                ["uid"] = parent.Uid,
                ["resourceVersion"] = parent.ResourceVersion.ToString(CultureInfo.InvariantCulture),
                ["creationTimestamp"] = obj["metadata"]?["creationTimestamp"]?.DeepClone(),
            },
            ["spec"] = new JsonObject { ["replicas"] = SimpleJsonPath.Evaluate(obj, paths.SpecReplicasPath).FirstOrDefault()?.DeepClone() ?? 0 },
            ["status"] = status,
        };
    }

    private static string SelectorString(JsonObject selector)
    {
        var parts = new List<string>();
        foreach (var (k, v) in selector["matchLabels"] as JsonObject ?? [])
        {
            parts.Add($"{k}={Json.Scalar(v)}");
        }

        foreach (var e in (selector["matchExpressions"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            var key = Json.String(e["key"]);
            var values = string.Join(",", Json.StringList(e["values"]));
            parts.Add(Json.String(e["operator"]) switch
            {
                "In" => $"{key} in ({values})",
                "NotIn" => $"{key} notin ({values})",
                "Exists" => key!,
                _ => "!" + key,
            });
        }

        return string.Join(",", parts);
    }

    private JsonObject UpdateScale(ResourceType type, string ns, string name, JsonObject scale, WriteOptions options)
    {
        var parent = _ops.GetStored(type, ns, name);
        var obj = parent.MutableCopy();
        var replicas = scale["spec"]?["replicas"]?.DeepClone() ?? throw ApiException.BadRequest("spec.replicas is required on a Scale");
        var path = type.Scale!.SpecReplicasPath.TrimStart('.').Split('.');
        var node = obj;
        foreach (var p in path[..^1])
        {
            if (node[p] is not JsonObject child)
            {
                child = new JsonObject();
                node[p] = child;
            }

            node = child;
        }

        node[path[^1]] = replicas;
        var rv = Json.String(scale["metadata"]?["resourceVersion"]);
        Json.Metadata(obj)["resourceVersion"] = string.IsNullOrEmpty(rv) ? parent.ResourceVersion.ToString(CultureInfo.InvariantCulture) : rv;
        _ops.Update(type, ns, name, null, ApiOperations.ToExternal(type, obj), options);
        return Scale(type, _ops.GetStored(type, ns, name));
    }

    private async Task ListAsync(HttpContext ctx, ResourceType type, string? ns, bool table)
    {
        var query = ctx.Request.Query;
        int? limit = int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) && l > 0 ? l : null;
        var cont = query["continue"].ToString();
        var rvParam = query["resourceVersion"].ToString();
        if (cont.Length > 0 && rvParam.Length > 0 && rvParam != "0")
        {
            throw ApiException.BadRequest("specifying resource version is not allowed when using continue");
        }

        if (query["resourceVersionMatch"].ToString().Length > 0 && rvParam.Length == 0)
        {
            throw ApiException.Invalid("ListOptions.meta.k8s.io", "", [FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided")], "meta.k8s.io", "ListOptions");
        }

        var page = _ops.List(type, ns, LabelSelector.Parse(query["labelSelector"]), FieldSelector.Parse(query["fieldSelector"], type), limit, cont);
        var rv = page.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        if (table)
        {
            var rows = page.Items.Select(o => ApiOperations.ToExternal(type, o.Object));
            await WriteAsync(ctx, 200, TableConverter.Build(type, rows, rv, page.Continue, _time.GetUtcNow()), TableConverter.ContentType).ConfigureAwait(false);
            return;
        }

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        await using (var w = new Utf8JsonWriter(buffer, Json.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("kind", type.ListKind);
            w.WriteString("apiVersion", type.ApiVersion);
            w.WriteStartObject("metadata");
            w.WriteString("resourceVersion", rv);
            if (page.Continue is not null)
            {
                w.WriteString("continue", page.Continue);
                w.WriteNumber("remainingItemCount", page.RemainingItemCount ?? 0);
            }

            w.WriteEndObject();
            w.WriteStartArray("items");
            foreach (var o in page.Items)
            {
                w.WriteRawValue(ApiOperations.Render(type, o), skipInputValidation: true);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        ctx.Response.ContentLength = buffer.Length;
        await ctx.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ctx.RequestAborted).ConfigureAwait(false);
    }

    // ---------------- watch ----------------

    private async Task WatchAsync(HttpContext ctx, RouteInfo route, Action logStarted)
    {
        var type = route.Type!;
        var query = ctx.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], type);
        var bookmarks = query["allowWatchBookmarks"].ToString() is "true" or "1";
        var sendInitial = query["sendInitialEvents"].ToString() is "true" or "1";
        var rvParam = query["resourceVersion"].ToString();
        long? from = null;
        if (rvParam.Length > 0 && rvParam != "0" && !sendInitial)
        {
            from = long.TryParse(rvParam, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw ApiException.BadRequest($"invalid resource version: {rvParam}");
        }

        var now = _time.GetUtcNow();
        var deadline = long.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var timeout) && timeout > 0
            ? now.AddSeconds(timeout)
            : now.AddMinutes(30);
        var table = WantsTable(ctx.Request);

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = table ? TableConverter.ContentType : "application/json";
        WatchSubscription sub;
        try
        {
            sub = _ops.Store.Subscribe(type.StorageKey, route.Namespace, from, sendInitial && bookmarks, from is not null && _faults.TakeExpiredWatch());
        }
        catch (ApiException ex) when (ex.Code == 410)
        {
            logStarted();
            await WriteLineAsync(ctx, new JsonObject { ["type"] = "ERROR", ["object"] = ex.ToStatus() }).ConfigureAwait(false);
            return;
        }

        using (sub)
        {
            await ctx.Response.StartAsync(ctx.RequestAborted).ConfigureAwait(false);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
            logStarted();
            LogWatchStarted(_logger, type.GroupResource, route.Namespace ?? "", rvParam);
            var nextBookmark = bookmarks ? Min(now + _options.BookmarkInterval, deadline - TimeSpan.FromSeconds(2)) : DateTimeOffset.MaxValue;
            var firstTable = true;
            var reader = sub.Events.Reader;
            while (true)
            {
                while (reader.TryRead(out var e))
                {
                    var line = Frame(type, route.Namespace, labels, fields, e, table, ref firstTable);
                    if (line is not null)
                    {
                        await ctx.Response.Body.WriteAsync(line, ctx.RequestAborted).ConfigureAwait(false);
                        await ctx.Response.Body.WriteAsync(Newline, ctx.RequestAborted).ConfigureAwait(false);
                    }
                }

                await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
                var current = _time.GetUtcNow();
                if (sub.Closed.IsCancellationRequested && sub.AbortConnection)
                {
                    ctx.Abort();
                    return;
                }

                if (current >= deadline || sub.Closed.IsCancellationRequested)
                {
                    return;
                }

                if (current >= nextBookmark)
                {
                    _ops.Store.RequestBookmark(sub);
                    nextBookmark = current >= deadline - TimeSpan.FromSeconds(2) ? DateTimeOffset.MaxValue : Min(current + _options.BookmarkInterval, deadline - TimeSpan.FromSeconds(2));
                    continue;
                }

                var wake = Min(deadline, nextBookmark) - current;
                using var timer = new CancellationTokenSource(wake, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, sub.Closed, ctx.RequestAborted);
                try
                {
                    if (!await reader.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
                {
                    // Timer or server-side close: the loop decides which.
                }
            }
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private byte[]? Frame(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, WatchEvent e, bool table, ref bool firstTable)
    {
        string kind;
        StoredObject obj;
        if (e.Type == WatchEvent.Bookmark)
        {
            var meta = new JsonObject { ["resourceVersion"] = e.ResourceVersion.ToString(CultureInfo.InvariantCulture) };
            if (e.InitialEventsEnd)
            {
                meta["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
            }

            return Json.Bytes(new JsonObject
            {
                ["type"] = WatchEvent.Bookmark,
                ["object"] = new JsonObject { ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion, ["metadata"] = meta },
            });
        }

        obj = e.Object!;
        var newMatch = Visible(obj, ns, labels, fields);
        var oldMatch = e.Previous is { } prev && Visible(prev, ns, labels, fields);
        switch (e.Type)
        {
            case WatchEvent.Added when newMatch:
                kind = WatchEvent.Added;
                break;
            case WatchEvent.Modified when newMatch && oldMatch:
                kind = WatchEvent.Modified;
                break;
            case WatchEvent.Modified when newMatch:
                kind = WatchEvent.Added;
                break;
            case WatchEvent.Modified when oldMatch:
                kind = WatchEvent.Deleted;
                break;
            case WatchEvent.Deleted when oldMatch:
                kind = WatchEvent.Deleted;
                break;
            default:
                return null;
        }

        if (table)
        {
            var t = TableConverter.Build(type, [ApiOperations.ToExternal(type, obj.Object)], null, null, _time.GetUtcNow(), includeColumns: firstTable);
            firstTable = false;
            return Json.Bytes(new JsonObject { ["type"] = kind, ["object"] = t });
        }

        var objectBytes = ApiOperations.Render(type, obj);
        var prefix = kind switch
        {
            WatchEvent.Added => "{\"type\":\"ADDED\",\"object\":"u8,
            WatchEvent.Modified => "{\"type\":\"MODIFIED\",\"object\":"u8,
            _ => "{\"type\":\"DELETED\",\"object\":"u8,
        };
        var line = new byte[prefix.Length + objectBytes.Length + 1];
        prefix.CopyTo(line);
        objectBytes.CopyTo(line.AsSpan(prefix.Length));
        line[^1] = (byte)'}';
        return line;
    }

    private static bool Visible(StoredObject o, string? ns, LabelSelector labels, FieldSelector fields) =>
        (ns is null || o.Namespace == ns) && ApiOperations.Matches(o.Object, labels, fields);

    private static async Task WriteLineAsync(HttpContext ctx, JsonObject frame)
    {
        await ctx.Response.Body.WriteAsync(Json.Bytes(frame), ctx.RequestAborted).ConfigureAwait(false);
        await ctx.Response.Body.WriteAsync(Newline, ctx.RequestAborted).ConfigureAwait(false);
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    // ---------------- request decoding ----------------

    private static bool WantsTable(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    private static string MediaType(string? contentType) =>
        (contentType ?? "application/json").Split(';')[0].Trim().ToLowerInvariant();

    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted).ConfigureAwait(false);
        return ms.ToArray();
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx)
    {
        var media = MediaType(ctx.Request.ContentType);
        if (media == Protobuf.KubeProtobuf.MediaType)
        {
            return Protobuf.KubeProtobuf.Decode(await ReadBodyAsync(ctx).ConfigureAwait(false));
        }

        if (media is not ("application/json" or "application/yaml" or "*/*"))
        {
            throw ApiException.UnsupportedMediaType("application/json, application/yaml, application/vnd.kubernetes.protobuf");
        }

        var bytes = await ReadBodyAsync(ctx).ConfigureAwait(false);
        return ParseJson(bytes, media) as JsonObject ?? throw ApiException.BadRequest("the request body must be a JSON object");
    }

    private static JsonNode? ParseJson(byte[] bytes, string media)
    {
        if (media.Contains("protobuf", StringComparison.Ordinal))
        {
            throw ApiException.UnsupportedMediaType("application/json, application/yaml");
        }

        if (bytes.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException ex)
        {
            var hint = media.Contains("yaml", StringComparison.Ordinal) ? " (the sandbox accepts only the JSON form of YAML bodies)" : "";
            throw ApiException.BadRequest($"error decoding request body: {ex.Message}{hint}");
        }
    }

    private static WriteOptions WriteOptionsFrom(IQueryCollection query)
    {
        var validation = query["fieldValidation"].ToString();
        var force = query["force"].ToString();
        return new WriteOptions
        {
            DryRun = query["dryRun"].ToString() == "All",
            FieldValidation = validation.Length == 0 ? "Warn" : validation,
            FieldManager = query["fieldManager"].ToString() is { Length: > 0 } fm ? fm : null,
            Force = force.Length == 0 ? null : force is "true" or "1",
        };
    }

    private static async Task<DeleteOptions> DeleteOptionsFromAsync(HttpContext ctx)
    {
        var query = ctx.Request.Query;
        var bytes = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var body = bytes.Length > 0 ? ParseJson(bytes, "application/json") as JsonObject : null;
        var policy = Json.String(body?["propagationPolicy"]) ?? (query["propagationPolicy"].ToString() is { Length: > 0 } p ? p : null);
        var orphan = Json.IsTrue(body?["orphanDependents"]) || query["orphanDependents"].ToString() == "true";
        if (policy is null && orphan)
        {
            policy = "Orphan";
        }

        if (policy is not null and not ("Orphan" or "Background" or "Foreground"))
        {
            throw ApiException.Invalid("DeleteOptions.meta.k8s.io", "", [FieldError.NotSupported("propagationPolicy", JsonValue.Create(policy), ["\"Background\"", "\"Foreground\"", "\"Orphan\""])], "meta.k8s.io", "DeleteOptions");
        }

        long? grace = Json.Long(body?["gracePeriodSeconds"])
            ?? (long.TryParse(query["gracePeriodSeconds"], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var g) ? g : null);
        var dryRun = Json.StringList(body?["dryRun"]).Contains("All") || query["dryRun"].ToString() == "All";
        return new DeleteOptions
        {
            PropagationPolicy = policy,
            GracePeriodSeconds = grace,
            PreconditionUid = Json.String(body?["preconditions"]?["uid"]),
            PreconditionResourceVersion = Json.String(body?["preconditions"]?["resourceVersion"]),
            DryRun = dryRun,
        };
    }

    /// <summary>Writes a JSON body with its status, content type and length (also used by <see cref="SecurityEndpoints"/>).</summary>
    internal static async Task WriteAsync(HttpContext ctx, int code, JsonNode body, string contentType = "application/json")
    {
        var bytes = Json.Bytes(body);
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = contentType;
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure answering {Method} {Path}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Watch opened on {Resource} in namespace '{Namespace}' from resourceVersion '{ResourceVersion}'")]
    private static partial void LogWatchStarted(ILogger logger, string resource, string @namespace, string resourceVersion);
}
