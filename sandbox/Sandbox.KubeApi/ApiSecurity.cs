using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sandbox.KubeApi;

/// <summary>
/// Authentication, impersonation and authorization in front of every request, in the API server's order:
/// who is calling (the admin token, a ServiceAccount token, or anonymous), whom they act as (Impersonate-* headers,
/// each checked for the impersonate verb), and whether RBAC lets that identity do what the request asks.
/// </summary>
internal sealed class ApiSecurity : IDisposable
{
    /// <summary>The lifetime the API server gives a token when the TokenRequest names none.</summary>
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromHours(1);

    private const string ImpersonateUser = "Impersonate-User";
    private const string ImpersonateGroup = "Impersonate-Group";
    private const string ImpersonateUid = "Impersonate-Uid";
    private const string ImpersonateExtraPrefix = "Impersonate-Extra-";

    private readonly ObjectStore _store;
    private readonly TimeProvider _time;
    private readonly byte[] _adminToken;

    public ApiSecurity(ObjectStore store, TimeProvider time, bool rbac)
    {
        _store = store;
        _time = time;
        Tokens = new ServiceAccountTokenIssuer(time);
        Authorizer = new RbacAuthorizer(store, rbac);
        AdminToken = "sandbox-admin-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _adminToken = Encoding.UTF8.GetBytes(AdminToken);
    }

    /// <summary>The bearer token of the admin kubeconfig (a new one at every start).</summary>
    public string AdminToken { get; }

    public ServiceAccountTokenIssuer Tokens { get; }

    public RbacAuthorizer Authorizer { get; }

    /// <summary>Where the JWKS is served (set once the server knows its address).</summary>
    public string JwksUri { get; set; } = "";

    /// <summary>The identity the request acts as: 401 for a bad credential, 403 when the caller may not impersonate whom it asks to.</summary>
    public UserInfo Identify(HttpRequest request) => Impersonate(request, Authenticate(request));

    /// <summary>403 unless the identity may do what the request asks.</summary>
    public void Authorize(UserInfo user, AuthorizationAttributes attributes)
    {
        if (!Authorizer.Authorize(user, attributes).Allowed)
        {
            throw Forbidden(attributes, user.Name);
        }
    }

    /// <summary>The caller's own identity, before impersonation.</summary>
    public UserInfo Authenticate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            // Without --rbac the emulator keeps its old contract: no credential needed.
            return Authorizer.Enabled ? UserInfo.Anonymous : UserInfo.Admin;
        }

        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        if (token.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), _adminToken))
        {
            return UserInfo.Admin;
        }

        if (ServiceAccountTokenIssuer.LooksLikeJwt(token))
        {
            return AuthenticateToken(token, null).User ?? throw Unauthorized();
        }

        return Authorizer.Enabled ? throw Unauthorized() : UserInfo.Admin;
    }

    /// <summary>A token's user and matched audiences, or the error a TokenReview reports.</summary>
    public TokenAuthentication AuthenticateToken(string token, IReadOnlyList<string>? audiences)
    {
        var verified = Tokens.Verify(token, audiences);
        if (verified.Claims is not { } claims)
        {
            return new TokenAuthentication(null, [], $"[invalid bearer token, {verified.Error}]");
        }

        string? problem;
        lock (_store.Gate)
        {
            problem = StillBound("serviceaccounts", claims.Namespace, claims.ServiceAccountName, claims.ServiceAccountUid)
                ?? (claims.PodName is { } pod ? StillBound("pods", claims.Namespace, pod, claims.PodUid ?? "") : null)
                ?? (claims.SecretName is { } secret ? StillBound("secrets", claims.Namespace, secret, claims.SecretUid ?? "") : null);
        }

        if (problem is not null)
        {
            return new TokenAuthentication(null, [], $"[invalid bearer token, {problem}]");
        }

        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["authentication.kubernetes.io/credential-id"] = ["JTI=" + claims.TokenId],
        };
        if (claims.PodName is not null)
        {
            extra["authentication.kubernetes.io/pod-name"] = [claims.PodName];
            extra["authentication.kubernetes.io/pod-uid"] = [claims.PodUid ?? ""];
        }

        return new TokenAuthentication(UserInfo.ServiceAccount(claims.Namespace, claims.ServiceAccountName, claims.ServiceAccountUid, extra), verified.Audiences, null);
    }

    /// <summary>Answers a TokenRequest for a ServiceAccount: a signed token with the requested audiences, lifetime and binding.</summary>
    public JsonObject RequestToken(string ns, string serviceAccount, JsonObject request)
    {
        var spec = request["spec"] as JsonObject ?? [];
        var audiences = Json.StringList(spec["audiences"]);
        if (audiences.Count == 0)
        {
            audiences = [.. Tokens.ApiAudiences];
        }

        var seconds = Json.Long(spec["expirationSeconds"]) ?? (long)DefaultTokenLifetime.TotalSeconds;
        if (seconds < 600)
        {
            throw ApiException.Invalid("TokenRequest.authentication.k8s.io", serviceAccount, [FieldError.Invalid("spec.expirationSeconds", JsonValue.Create(seconds), "may not specify a duration less than 10 minutes")], "authentication.k8s.io", "TokenRequest");
        }

        if (seconds > 1L << 32)
        {
            throw ApiException.Invalid("TokenRequest.authentication.k8s.io", serviceAccount, [FieldError.Invalid("spec.expirationSeconds", JsonValue.Create(seconds), "may not specify a duration larger than 2^32 seconds")], "authentication.k8s.io", "TokenRequest");
        }

        var bound = spec["boundObjectRef"] as JsonObject;
        ServiceAccountClaims claims;
        lock (_store.Gate)
        {
            var sa = _store.Get("serviceaccounts", ns, serviceAccount)
                ?? throw new ApiException(404, "NotFound", $"serviceaccounts \"{serviceAccount}\" not found", new JsonObject { ["name"] = serviceAccount, ["kind"] = "serviceaccounts" });
            claims = new ServiceAccountClaims(ns, serviceAccount, sa.Uid, Guid.NewGuid().ToString());
            if (bound is not null)
            {
                claims = Bind(claims, bound, serviceAccount);
            }
        }

        var now = _time.GetUtcNow();
        var expires = now.AddSeconds(seconds);
        var token = Tokens.Mint(claims, audiences, now, expires);
        var resultSpec = new JsonObject
        {
            ["audiences"] = new JsonArray([.. audiences.Select(a => (JsonNode)JsonValue.Create(a))]),
            ["expirationSeconds"] = seconds,
            ["boundObjectRef"] = bound?.DeepClone(),
        };
        return new JsonObject
        {
            ["kind"] = "TokenRequest",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["name"] = serviceAccount, ["namespace"] = ns, ["creationTimestamp"] = Json.FormatTime(now) },
            ["spec"] = resultSpec,
            ["status"] = new JsonObject { ["token"] = token, ["expirationTimestamp"] = Json.FormatTime(expires) },
        };
    }

    public static ApiException Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    /// <summary>The 403 the API server's authorization filter writes.</summary>
    public static ApiException Forbidden(AuthorizationAttributes attributes, string userName)
    {
        var sentence = attributes.DeniedSentence(userName);
        if (!attributes.IsResourceRequest)
        {
            return new ApiException(403, "Forbidden", "forbidden: " + sentence, new JsonObject());
        }

        var qualified = attributes.ApiGroup.Length == 0 ? attributes.Resource : attributes.Resource + "." + attributes.ApiGroup;
        var details = new JsonObject();
        if (attributes.Name.Length > 0)
        {
            details["name"] = attributes.Name;
        }

        if (attributes.ApiGroup.Length > 0)
        {
            details["group"] = attributes.ApiGroup;
        }

        details["kind"] = attributes.Resource;
        var subject = attributes.Name.Length > 0 ? $"{qualified} \"{attributes.Name}\"" : qualified;
        return new ApiException(403, "Forbidden", $"{subject} is forbidden: {sentence}", details);
    }

    public void Dispose() => Tokens.Dispose();

    private UserInfo Impersonate(HttpRequest request, UserInfo requester)
    {
        var users = request.Headers[ImpersonateUser];
        var groups = request.Headers[ImpersonateGroup];
        var uid = request.Headers[ImpersonateUid].ToString();
        var extraHeaders = request.Headers.Where(h => h.Key.StartsWith(ImpersonateExtraPrefix, StringComparison.OrdinalIgnoreCase)).ToList();
        if (users.Count == 0)
        {
            if (groups.Count > 0 || uid.Length > 0 || extraHeaders.Count > 0)
            {
                throw ApiException.BadRequest("requested impersonation of groups, uid or extra without impersonating a user");
            }

            return requester;
        }

        var name = users[0] ?? "";
        var isServiceAccount = UserInfo.TryParseServiceAccount(name, out var saNamespace, out var saName);
        Check(requester, isServiceAccount
            ? new AuthorizationAttributes { Verb = "impersonate", IsResourceRequest = true, Resource = "serviceaccounts", Namespace = saNamespace, Name = saName }
            : new AuthorizationAttributes { Verb = "impersonate", IsResourceRequest = true, Resource = "users", Name = name });
        var actingGroups = new List<string>();
        foreach (var group in groups.SelectMany(g => (g ?? "").Split(',')).Select(g => g.Trim()).Where(g => g.Length > 0))
        {
            Check(requester, new AuthorizationAttributes { Verb = "impersonate", IsResourceRequest = true, Resource = "groups", Name = group });
            actingGroups.Add(group);
        }

        if (uid.Length > 0)
        {
            Check(requester, new AuthorizationAttributes { Verb = "impersonate", IsResourceRequest = true, ApiGroup = "authentication.k8s.io", Resource = "uids", Name = uid });
        }

        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (header, values) in extraHeaders)
        {
            var key = Uri.UnescapeDataString(header[ImpersonateExtraPrefix.Length..]).ToLowerInvariant();
            foreach (var value in values.OfType<string>())
            {
                Check(requester, new AuthorizationAttributes { Verb = "impersonate", IsResourceRequest = true, ApiGroup = "authentication.k8s.io", Resource = "userextras", Subresource = key, Name = value });
            }

            extra[key] = [.. values.OfType<string>()];
        }

        if (isServiceAccount && actingGroups.Count == 0)
        {
            actingGroups.AddRange([UserInfo.AllServiceAccounts, UserInfo.AllServiceAccounts + ":" + saNamespace]);
        }

        var everyone = name == UserInfo.AnonymousName ? UserInfo.AllUnauthenticated : UserInfo.AllAuthenticated;
        if (!actingGroups.Contains(everyone))
        {
            actingGroups.Add(everyone);
        }

        return UserInfo.Create(name, uid, actingGroups, extra);
    }

    private void Check(UserInfo requester, AuthorizationAttributes attributes)
    {
        if (!Authorizer.Authorize(requester, attributes).Allowed)
        {
            throw Forbidden(attributes, requester.Name);
        }
    }

    private ServiceAccountClaims Bind(ServiceAccountClaims claims, JsonObject bound, string serviceAccount)
    {
        var kind = Json.String(bound["kind"]) ?? "";
        var name = Json.String(bound["name"]) ?? "";
        var plural = kind switch
        {
            "Pod" => "pods",
            "Secret" => "secrets",
            _ => throw ApiException.Invalid("TokenRequest.authentication.k8s.io", serviceAccount, [FieldError.NotSupported("spec.boundObjectRef.kind", JsonValue.Create(kind), ["\"Pod\"", "\"Secret\""])], "authentication.k8s.io", "TokenRequest"),
        };
        var target = _store.Get(plural, claims.Namespace, name)
            ?? throw new ApiException(404, "NotFound", $"{plural} \"{name}\" not found", new JsonObject { ["name"] = name, ["kind"] = plural });
        if (Json.String(bound["uid"]) is { Length: > 0 } uid && uid != target.Uid)
        {
            throw new ApiException(409, "Conflict", string.Create(CultureInfo.InvariantCulture, $"the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated"));
        }

        return kind == "Pod"
            ? claims with { PodName = name, PodUid = target.Uid }
            : claims with { SecretName = name, SecretUid = target.Uid };
    }

    private string? StillBound(string plural, string ns, string name, string uid)
    {
        var current = _store.Get(plural, ns, name);
        // A pod being deleted keeps its tokens valid while it shuts down; a deleted ServiceAccount or Secret does not.
        if (current is null || (current.IsDeleting && plural != "pods"))
        {
            return $"{plural} \"{name}\" not found";
        }

        return current.Uid == uid ? null : $"{plural} \"{name}\" UID ({current.Uid}) does not match claim ({uid})";
    }
}
