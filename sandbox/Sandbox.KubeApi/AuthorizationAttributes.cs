namespace Sandbox.KubeApi;

/// <summary>
/// What a request asks to do, derived from its method, path and query alone, as the API server's request-info
/// resolver does before it authorizes: the verb RBAC checks (get, list, watch, create, update, patch, delete,
/// deletecollection; the lower-case HTTP method for non-resource paths) and what it is done to.
/// </summary>
public sealed record AuthorizationAttributes
{
    private static readonly HashSet<string> NamespaceSubresources = new(StringComparer.Ordinal) { "status", "finalize" };

    public required string Verb { get; init; }

    /// <summary>True for /api/v1/... and /apis/GROUP/VERSION/... paths; false for discovery, /version, /healthz, /openid and the like.</summary>
    public bool IsResourceRequest { get; init; }

    /// <summary>The request path (what nonResourceURLs rules match).</summary>
    public string Path { get; init; } = "/";

    public string ApiGroup { get; init; } = "";

    public string ApiVersion { get; init; } = "";

    public string Resource { get; init; } = "";

    public string Subresource { get; init; } = "";

    /// <summary>The namespace of the request ("" for cluster-scoped requests and lists across all namespaces).</summary>
    public string Namespace { get; init; } = "";

    /// <summary>The object name ("" for list, watch, create and deletecollection, unless a field selector pins metadata.name).</summary>
    public string Name { get; init; } = "";

    /// <summary>resource/subresource, as RBAC rules name it (deployments/scale, greenhouseintegrations/status).</summary>
    public string ResourceWithSubresource => Subresource.Length > 0 ? Resource + "/" + Subresource : Resource;

    /// <summary>Resolves a request as the Kubernetes request-info factory does.</summary>
    public static AuthorizationAttributes FromRequest(string method, string path, Func<string, string?> query)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(query);
        path = string.IsNullOrEmpty(path) ? "/" : path;
        var nonResource = new AuthorizationAttributes { Verb = method.ToLowerInvariant(), Path = path };
        var parts = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3 || parts[0] is not ("api" or "apis"))
        {
            return nonResource;
        }

        var group = "";
        var rest = parts.AsSpan(1);
        if (parts[0] == "apis")
        {
            if (rest.Length < 3)
            {
                return nonResource;
            }

            group = rest[0];
            rest = rest[1..];
        }

        var version = rest[0];
        rest = rest[1..];
        string verb;
        var fromMethod = false;
        if (rest[0] is "watch" or "proxy")
        {
            if (rest.Length < 2)
            {
                return nonResource;
            }

            verb = rest[0];
            rest = rest[1..];
        }
        else
        {
            fromMethod = true;
            verb = method switch
            {
                "POST" => "create",
                "GET" or "HEAD" => "get",
                "PUT" => "update",
                "PATCH" => "patch",
                "DELETE" => "delete",
                _ => "",
            };
        }

        var ns = "";
        if (rest[0] == "namespaces" && rest.Length > 1)
        {
            ns = rest[1];
            if (rest.Length > 2 && !NamespaceSubresources.Contains(rest[2]))
            {
                rest = rest[2..];
            }
        }

        var resource = rest[0];
        var name = rest.Length >= 2 ? rest[1] : "";
        var subresource = rest.Length >= 3 && verb != "proxy" ? rest[2] : "";
        if (name.Length == 0 && verb == "get")
        {
            verb = query("watch") is "true" or "1" ? "watch" : "list";
        }

        if (name.Length == 0 && verb == "delete" && fromMethod)
        {
            verb = "deletecollection";
        }

        // A list or watch pinned to one name by a field selector is authorized against that name (resourceNames rules).
        if (name.Length == 0 && verb is "list" or "watch" && query("fieldSelector") is { Length: > 0 } selector)
        {
            foreach (var term in selector.Split(','))
            {
                var t = term.Trim();
                if (t.StartsWith("metadata.name=", StringComparison.Ordinal) && !t.StartsWith("metadata.name!=", StringComparison.Ordinal))
                {
                    name = t["metadata.name=".Length..].TrimStart('=');
                }
            }
        }

        return new AuthorizationAttributes
        {
            Verb = verb,
            IsResourceRequest = true,
            Path = path,
            ApiGroup = group,
            ApiVersion = version,
            Resource = resource,
            Subresource = subresource,
            Namespace = ns,
            Name = name,
        };
    }

    /// <summary>The sentence the API server puts after "is forbidden: ".</summary>
    internal string DeniedSentence(string userName)
    {
        if (!IsResourceRequest)
        {
            return $"User \"{userName}\" cannot {Verb} path \"{Path}\"";
        }

        var scope = Namespace.Length > 0 ? $"in the namespace \"{Namespace}\"" : "at the cluster scope";
        return $"User \"{userName}\" cannot {Verb} resource \"{ResourceWithSubresource}\" in API group \"{ApiGroup}\" {scope}";
    }
}
