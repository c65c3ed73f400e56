using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sandbox.KubeApi;

/// <summary>
/// The OwnerReferencesPermissionEnforcement admission plugin (on in OpenShift and hardened clusters): a write that
/// changes an object's ownerReferences needs <c>delete</c> on the object (unless it creates it), and each owner
/// reference it newly sets with <c>blockOwnerDeletion: true</c> needs <c>update</c> on the owner's
/// <c>finalizers</c> subresource (e.g. greenhouseintegrations/finalizers). The checks are computed for every write
/// (the request log records them) and enforced only when <see cref="KubeApiServerOptions.OwnerReferencesPermissionEnforcement"/>
/// and RBAC are on. Only JSON request bodies are inspected.
/// </summary>
internal sealed class OwnerReferencePermissions
{
    private readonly RbacAuthorizer _authorizer;
    private readonly ResourceRegistry _registry;
    private readonly ObjectStore _store;
    private readonly bool _enforce;

    public OwnerReferencePermissions(RbacAuthorizer authorizer, ResourceRegistry registry, ObjectStore store, bool enforce)
    {
        _authorizer = authorizer;
        _registry = registry;
        _store = store;
        _enforce = enforce && authorizer.Enabled;
    }

    /// <summary>Makes the checks this write needs, adding each to <paramref name="checks"/>; 403 when one is refused and enforcement is on.</summary>
    public async Task CheckAsync(HttpContext ctx, UserInfo user, AuthorizationAttributes request, List<AuthorizationCheck> checks)
    {
        if (!request.IsResourceRequest || request.Subresource.Length > 0 || request.Verb is not ("create" or "update" or "patch")
            || (request.Verb != "create" && request.Name.Length == 0)
            || _registry.Find(request.ApiGroup, request.ApiVersion, request.Resource) is not { } type)
        {
            return;
        }

        var body = await ReadJsonBodyAsync(ctx).ConfigureAwait(false);
        if (body?["metadata"] is not JsonObject meta)
        {
            return;
        }

        var newRefs = meta["ownerReferences"] as JsonArray;
        if (newRefs is null && request.Verb != "update")
        {
            return; // A patch without ownerReferences leaves them as they are.
        }

        JsonArray? oldRefs = null;
        // A write creates the object when it is a create, or a patch (server-side apply) of an object that does not exist yet:
        // the plugin's operation is then Create, and whoever may create an object may set its owners.
        var creates = request.Verb == "create";
        if (!creates)
        {
            lock (_store.Gate)
            {
                var stored = _store.Get(type.StorageKey, type.Namespaced ? request.Namespace : "", request.Name);
                creates = stored is null && request.Verb == "patch";
                oldRefs = stored?.Object["metadata"]?["ownerReferences"]?.DeepClone() as JsonArray;
            }
        }

        var oldByUid = Refs(oldRefs).ToDictionary(r => Json.String(r["uid"]) ?? "", StringComparer.Ordinal);
        var newList = Refs(newRefs).ToList();
        if (newList.Count == oldByUid.Count && newList.All(r => oldByUid.TryGetValue(Json.String(r["uid"]) ?? "", out var o) && JsonNode.DeepEquals(o, r)))
        {
            return;
        }

        var name = request.Name.Length > 0 ? request.Name : Json.String(meta["name"]) ?? "";
        if (!creates)
        {
            var delete = request with { Verb = "delete" };
            Check(user, delete, checks, type, name, "cannot set an ownerRef on a resource you can't delete");
        }

        foreach (var reference in newList.Where(r => Json.IsTrue(r["blockOwnerDeletion"])))
        {
            if (oldByUid.TryGetValue(Json.String(reference["uid"]) ?? "", out var old) && Json.IsTrue(old["blockOwnerDeletion"]))
            {
                continue;
            }

            var apiVersion = Json.String(reference["apiVersion"]) ?? "";
            var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
            var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
            var kind = Json.String(reference["kind"]) ?? "";
            var owner = _registry.All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Kind == kind);
            if (owner is null)
            {
                if (_enforce)
                {
                    throw Refused(type, name, $"cannot set blockOwnerDeletion in this case because cannot find RESTMapping for APIVersion {apiVersion} Kind {kind}");
                }

                continue;
            }

            var finalizers = new AuthorizationAttributes
            {
                Verb = "update",
                IsResourceRequest = true,
                ApiGroup = owner.Group,
                ApiVersion = owner.Version,
                Resource = owner.Plural,
                Subresource = "finalizers",
                Namespace = owner.Namespaced ? request.Namespace : "",
                Name = Json.String(reference["name"]) ?? "",
            };
            Check(user, finalizers, checks, type, name, "cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on");
        }
    }

    private void Check(UserInfo user, AuthorizationAttributes attributes, List<AuthorizationCheck> checks, ResourceType type, string name, string why)
    {
        var allowed = _authorizer.Authorize(user, attributes).Allowed;
        checks.Add(new AuthorizationCheck(attributes, allowed));
        if (!allowed && _enforce)
        {
            // The plugin formats the authorizer's (empty) reason and (nil) error after the sentence.
            throw Refused(type, name, why + ": , <nil>");
        }
    }

    private static ApiException Refused(ResourceType type, string name, string why) =>
        ApiException.Forbidden(type, name, why);

    private static IEnumerable<JsonObject> Refs(JsonArray? refs) => refs?.OfType<JsonObject>() ?? [];

    private static async Task<JsonObject?> ReadJsonBodyAsync(HttpContext ctx)
    {
        var media = (ctx.Request.ContentType ?? "application/json").Split(';')[0].Trim();
        if (!media.EndsWith("json", StringComparison.OrdinalIgnoreCase) && !media.Equals("application/apply-patch+yaml", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        // The handler reads the body again after this check.
        ctx.Request.EnableBuffering();
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
        ctx.Request.Body.Position = 0;
        try
        {
            return JsonNode.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length).Span) as JsonObject;
        }
        catch (JsonException)
        {
            return null; // YAML apply bodies and broken JSON are left to the handler.
        }
    }
}
