using System.Text.Json.Nodes;
using static Sandbox.KubeApi.Tests.SecurityClients;

namespace Sandbox.KubeApi.Tests;

/// <summary>OwnerReferencesPermissionEnforcement with --rbac: blockOwnerDeletion needs update on OWNER/finalizers, changing owners needs delete.</summary>
public sealed class OwnerReferencePermissionTests : IAsyncLifetime
{
    private const string Op = "system:serviceaccount:ops:op";
    private KubeApiServer _server = null!;
    private HttpClient _admin = null!;
    private HttpClient _op = null!;
    private string _ownerUid = "";

    public async Task InitializeAsync()
    {
        _server = await KubeApiServer.StartAsync(new KubeApiServerOptions { Rbac = true, OwnerReferencesPermissionEnforcement = true });
        _admin = Admin(_server);
        await _admin.CreateNamespaceAsync("ops");
        await _admin.CreateNamespaceAsync("hr");
        await _admin.CreateServiceAccountAsync("ops", "op");
        _op = WithToken(_server, await _admin.TokenAsync("ops", "op"));
        var (_, owner) = await _admin.PostJsonAsync("/api/v1/namespaces/hr/configmaps", TestClients.ConfigMap("owner"));
        _ownerUid = (string)owner!["metadata"]!["uid"]!;
        await _admin.GrantAsync("writer", null, "hr", [Rule(["get", "create", "update", "patch"], [""], ["secrets"])], Subject("ServiceAccount", "op", "ops"));
    }

    public async Task DisposeAsync()
    {
        _op.Dispose();
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Setting_block_owner_deletion_needs_update_on_the_owners_finalizers()
    {
        var (refused, body) = await _op.PostJsonAsync("/api/v1/namespaces/hr/secrets", Owned("s", blockOwnerDeletion: true));
        var (plainOwner, _) = await _op.PostJsonAsync("/api/v1/namespaces/hr/secrets", Owned("plain", blockOwnerDeletion: false));
        await _admin.GrantAsync("finalizers", null, "hr", [Rule(["update"], [""], ["configmaps/finalizers"], ["owner"])], Subject("ServiceAccount", "op", "ops"));
        var (allowed, _) = await _op.PostJsonAsync("/api/v1/namespaces/hr/secrets", Owned("s", blockOwnerDeletion: true));

        Assert.Equal(403, refused);
        Assert.Equal("secrets \"s\" is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: , <nil>", (string?)body!["message"]);
        Assert.Equal(201, plainOwner);
        Assert.Equal(201, allowed);
        Assert.Contains(new PermissionUse("update", "", "configmaps/finalizers", 2, 1), _server.Requests.PermissionsUsedBy(Op));
    }

    [Fact]
    public async Task Changing_owner_references_of_an_existing_object_needs_delete_on_it()
    {
        await _op.PostJsonAsync("/api/v1/namespaces/hr/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "late" } });

        var (refused, body) = await _op.PatchJsonAsync("/api/v1/namespaces/hr/secrets/late", new JsonObject { ["metadata"] = new JsonObject { ["ownerReferences"] = Owned("late", false)["metadata"]!["ownerReferences"]!.DeepClone() } }, "application/merge-patch+json");
        var (unrelated, _) = await _op.PatchJsonAsync("/api/v1/namespaces/hr/secrets/late", new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["a"] = "b" } } }, "application/merge-patch+json");

        Assert.Equal(403, refused);
        Assert.Equal("secrets \"late\" is forbidden: cannot set an ownerRef on a resource you can't delete: , <nil>", (string?)body!["message"]);
        Assert.Equal(200, unrelated);
    }

    [Fact]
    public async Task Server_side_apply_that_creates_an_owned_object_needs_no_delete_but_changing_its_owners_later_does()
    {
        var applied = Owned("applied", blockOwnerDeletion: false);
        applied["apiVersion"] = "v1";
        applied["kind"] = "Secret";

        var (created, _) = await _op.PatchJsonAsync("/api/v1/namespaces/hr/secrets/applied?fieldManager=op", applied, "application/apply-patch+yaml");
        var (again, _) = await _op.PatchJsonAsync("/api/v1/namespaces/hr/secrets/applied?fieldManager=op", applied, "application/apply-patch+yaml");
        var (_, other) = await _admin.PostJsonAsync("/api/v1/namespaces/hr/configmaps", TestClients.ConfigMap("other-owner"));
        var changed = applied.DeepClone().AsObject();
        changed["metadata"]!["ownerReferences"]![0]!["name"] = "other-owner";
        changed["metadata"]!["ownerReferences"]![0]!["uid"] = (string)other!["metadata"]!["uid"]!;
        var (refused, body) = await _op.PatchJsonAsync("/api/v1/namespaces/hr/secrets/applied?fieldManager=op", changed, "application/apply-patch+yaml");

        Assert.Equal(201, created); // the operation is a create: whoever may create an object may set its owners
        Assert.Equal(200, again); // owners unchanged: no check
        Assert.Equal(403, refused);
        Assert.Equal("secrets \"applied\" is forbidden: cannot set an ownerRef on a resource you can't delete: , <nil>", (string?)body!["message"]);
    }

    private JsonObject Owned(string name, bool blockOwnerDeletion) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "ConfigMap",
                ["name"] = "owner",
                ["uid"] = _ownerUid,
                ["controller"] = true,
                ["blockOwnerDeletion"] = blockOwnerDeletion,
            }),
        },
    };
}
