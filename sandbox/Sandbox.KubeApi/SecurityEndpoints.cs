using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sandbox.KubeApi;

/// <summary>
/// The endpoints of authentication and authorization: TokenRequest (serviceaccounts/token), TokenReview,
/// SelfSubjectReview, SelfSubjectAccessReview, LocalSubjectAccessReview, SubjectAccessReview,
/// SelfSubjectRulesReview, and the service-account issuer's OIDC discovery document and JWKS.
/// Reviews are answered, never stored, as on a cluster.
/// </summary>
internal sealed class SecurityEndpoints
{
    private readonly ApiSecurity _security;

    public SecurityEndpoints(ApiSecurity security)
    {
        _security = security;
    }

    /// <summary>Serves the request if it is one of these endpoints (after admission); false for everything else.</summary>
    public async Task<bool> TryServeAsync(HttpContext ctx, AuthorizationAttributes request, UserInfo user)
    {
        if (!request.IsResourceRequest)
        {
            switch (request.Path.TrimEnd('/'))
            {
                case "/.well-known/openid-configuration" when request.Verb == "get":
                    await HttpFrontEnd.WriteAsync(ctx, 200, _security.Tokens.OpenIdConfiguration(_security.JwksUri)).ConfigureAwait(false);
                    return true;
                case "/openid/v1/jwks" when request.Verb == "get":
                    await HttpFrontEnd.WriteAsync(ctx, 200, _security.Tokens.Jwks(), "application/jwk-set+json").ConfigureAwait(false);
                    return true;
                default:
                    return false;
            }
        }

        if (request.ApiVersion != "v1")
        {
            return false;
        }

        Func<JsonObject, JsonObject>? review = (request.ApiGroup, request.Resource, request.Subresource) switch
        {
            ("", "serviceaccounts", "token") when request.Name.Length > 0 && request.Namespace.Length > 0 =>
                body => _security.RequestToken(request.Namespace, request.Name, body),
            ("authentication.k8s.io", "tokenreviews", "") when request.Namespace.Length == 0 => TokenReview,
            ("authentication.k8s.io", "selfsubjectreviews", "") when request.Namespace.Length == 0 =>
                body => Answer(body, "authentication.k8s.io/v1", "SelfSubjectReview", new JsonObject { ["userInfo"] = user.ToJson() }),
            ("authorization.k8s.io", "selfsubjectaccessreviews", "") when request.Namespace.Length == 0 =>
                body => AccessReview(body, "SelfSubjectAccessReview", user, null),
            ("authorization.k8s.io", "subjectaccessreviews", "") when request.Namespace.Length == 0 =>
                body => AccessReview(body, "SubjectAccessReview", SubjectOf(body), null),
            ("authorization.k8s.io", "localsubjectaccessreviews", "") when request.Namespace.Length > 0 =>
                body => AccessReview(body, "LocalSubjectAccessReview", SubjectOf(body), request.Namespace),
            ("authorization.k8s.io", "selfsubjectrulesreviews", "") when request.Namespace.Length == 0 =>
                body => RulesReview(body, user),
            _ => null,
        };
        if (review is null)
        {
            return false;
        }

        if (request.Verb != "create" || (request.Name.Length > 0 && request.Subresource.Length == 0))
        {
            throw ApiException.MethodNotAllowed();
        }

        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        await HttpFrontEnd.WriteAsync(ctx, 201, review(body)).ConfigureAwait(false);
        return true;
    }

    private JsonObject TokenReview(JsonObject body)
    {
        var spec = body["spec"] as JsonObject ?? [];
        var audiences = Json.StringList(spec["audiences"]);
        var token = Json.String(spec["token"]) ?? "";
        var result = token.Length == 0
            ? new TokenAuthentication(null, [], "[invalid bearer token, token is empty]")
            : _security.AuthenticateToken(token, audiences);
        var status = new JsonObject();
        if (result.User is { } user)
        {
            status["authenticated"] = true;
            status["user"] = user.ToJson();
            status["audiences"] = new JsonArray([.. result.Audiences.Select(a => (JsonNode)JsonValue.Create(a))]);
        }
        else
        {
            status["user"] = new JsonObject();
            status["error"] = result.Error;
        }

        return Answer(body, "authentication.k8s.io/v1", "TokenReview", status);
    }

    private JsonObject AccessReview(JsonObject body, string kind, UserInfo subject, string? localNamespace)
    {
        var spec = body["spec"] as JsonObject ?? [];
        AuthorizationAttributes request;
        if (spec["resourceAttributes"] is JsonObject ra)
        {
            var ns = Json.String(ra["namespace"]) ?? "";
            if (localNamespace is not null && ns.Length > 0 && ns != localNamespace)
            {
                throw ApiException.Invalid($"{kind}.authorization.k8s.io", "", [FieldError.Invalid("spec.resourceAttributes.namespace", JsonValue.Create(ns), "must match metadata.namespace")], "authorization.k8s.io", kind);
            }

            request = new AuthorizationAttributes
            {
                Verb = Json.String(ra["verb"]) ?? "",
                IsResourceRequest = true,
                ApiGroup = Json.String(ra["group"]) ?? "",
                ApiVersion = Json.String(ra["version"]) ?? "",
                Resource = Json.String(ra["resource"]) ?? "",
                Subresource = Json.String(ra["subresource"]) ?? "",
                Namespace = localNamespace ?? ns,
                Name = Json.String(ra["name"]) ?? "",
            };
        }
        else if (spec["nonResourceAttributes"] is JsonObject nra)
        {
            request = new AuthorizationAttributes { Verb = Json.String(nra["verb"]) ?? "", Path = Json.String(nra["path"]) ?? "" };
        }
        else
        {
            throw ApiException.Invalid($"{kind}.authorization.k8s.io", "", [FieldError.Invalid("spec.resourceAttributes", null, "exactly one of nonResourceAttributes or resourceAttributes must be specified")], "authorization.k8s.io", kind);
        }

        var decision = _security.Authorizer.Authorize(subject, request);
        var status = new JsonObject { ["allowed"] = decision.Allowed };
        if (decision.Reason.Length > 0)
        {
            status["reason"] = decision.Reason;
        }

        return Answer(body, "authorization.k8s.io/v1", kind, status);
    }

    private JsonObject RulesReview(JsonObject body, UserInfo user)
    {
        var ns = Json.String(body["spec"]?["namespace"]) ?? "";
        var resourceRules = new JsonArray();
        var nonResourceRules = new JsonArray();
        foreach (var rule in _security.Authorizer.RulesFor(user, ns))
        {
            if (Json.StringList(rule["resources"]).Count > 0)
            {
                var r = new JsonObject { ["verbs"] = rule["verbs"]?.DeepClone(), ["apiGroups"] = rule["apiGroups"]?.DeepClone() ?? new JsonArray(), ["resources"] = rule["resources"]?.DeepClone() };
                if (rule["resourceNames"] is JsonArray { Count: > 0 } names)
                {
                    r["resourceNames"] = names.DeepClone();
                }

                resourceRules.Add(r);
            }

            if (Json.StringList(rule["nonResourceURLs"]).Count > 0)
            {
                nonResourceRules.Add(new JsonObject { ["verbs"] = rule["verbs"]?.DeepClone(), ["nonResourceURLs"] = rule["nonResourceURLs"]?.DeepClone() });
            }
        }

        return Answer(body, "authorization.k8s.io/v1", "SelfSubjectRulesReview", new JsonObject
        {
            ["resourceRules"] = resourceRules,
            ["nonResourceRules"] = nonResourceRules,
            ["incomplete"] = false,
        });
    }

    private static UserInfo SubjectOf(JsonObject body)
    {
        var spec = body["spec"] as JsonObject ?? [];
        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, values) in spec["extra"] as JsonObject ?? [])
        {
            extra[key] = Json.StringList(values);
        }

        var name = Json.String(spec["user"]) ?? "";
        var groups = Json.StringList(spec["groups"]);
        if (name.Length == 0 && groups.Count == 0)
        {
            throw ApiException.Invalid("SubjectAccessReview.authorization.k8s.io", "", [FieldError.Invalid("spec.user", JsonValue.Create(""), "at least one of user or group must be specified")], "authorization.k8s.io", "SubjectAccessReview");
        }

        return UserInfo.Create(name, Json.String(spec["uid"]) ?? "", groups, extra);
    }

    private static JsonObject Answer(JsonObject body, string apiVersion, string kind, JsonObject status)
    {
        var meta = body["metadata"] as JsonObject ?? [];
        meta = meta.DeepClone().AsObject();
        meta["creationTimestamp"] = null;
        return new JsonObject
        {
            ["kind"] = kind,
            ["apiVersion"] = apiVersion,
            ["metadata"] = meta,
            ["spec"] = body["spec"]?.DeepClone() ?? new JsonObject(),
            ["status"] = status,
        };
    }

    private static async Task<JsonObject> ReadBodyAsync(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
        var bytes = buffer.ToArray();
        var media = (ctx.Request.ContentType ?? "application/json").Split(';')[0].Trim().ToLowerInvariant();
        if (media == "application/vnd.kubernetes.protobuf")
        {
            return ReviewProtobuf.Decode(bytes);
        }

        if (media is not ("application/json" or "*/*"))
        {
            throw ApiException.UnsupportedMediaType("application/json, application/vnd.kubernetes.protobuf");
        }

        try
        {
            return JsonNode.Parse(bytes) as JsonObject ?? throw ApiException.BadRequest("the request body must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw ApiException.BadRequest($"error decoding request body: {ex.Message}");
        }
    }
}
