using System.Buffers.Text;
using System.Text.Json.Nodes;
using static Sandbox.KubeApi.Tests.SecurityClients;

namespace Sandbox.KubeApi.Tests;

/// <summary>The real kubectl against the emulator: auth can-i (with --as, --as-group, --list, subresources, names), create token, whoami, a 403.</summary>
public sealed class KubectlAuthTests : IAsyncLifetime
{
    private const string Op = "system:serviceaccount:ops:op";
    private readonly List<KubeApiServer> _servers = [];
    private readonly List<Kubectl> _kubectls = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _kubectls.ForEach(k => k.Dispose());
        foreach (var s in _servers)
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Without_rbac_can_i_says_yes_to_everything_also_as_anyone()
    {
        var (_, kubectl) = await StartAsync(rbac: false);

        var secrets = await kubectl.RunAsync("auth", "can-i", "create", "secrets");
        var asSomeone = await kubectl.RunAsync("auth", "can-i", "delete", "namespaces", "--as=system:serviceaccount:ops:op");
        var list = await kubectl.RunAsync("auth", "can-i", "--list", "--as=jane");

        Assert.Equal((0, "yes"), (secrets.ExitCode, secrets.Out.Trim()));
        Assert.Equal((0, "yes"), (asSomeone.ExitCode, asSomeone.Out.Trim()));
        Assert.Matches(@"\*\.\*\s+\[\]\s+\[\]\s+\[\*\]", list.Out);
    }

    [Fact]
    public async Task With_rbac_the_admin_kubeconfig_may_do_anything_and_can_i_as_answers_per_the_bound_roles()
    {
        var (server, kubectl) = await StartAsync(rbac: true);
        using var admin = Admin(server);
        await admin.GrantAsync("cm-reader", null, "hr", [Rule(["get", "list", "watch"], [""], ["configmaps"])], Subject("ServiceAccount", "op", "ops"));
        await admin.GrantAsync("scaler", null, "hr", [Rule(["update"], ["apps"], ["deployments/scale"]), Rule(["get"], [""], ["secrets"], ["mine"])], Subject("Group", "scalers"));

        var adminSecrets = await kubectl.RunAsync("auth", "can-i", "create", "secrets");
        var inHr = await kubectl.RunAsync("auth", "can-i", "list", "configmaps", "-n", "hr", "--as=" + Op);
        var inSales = await kubectl.RunAsync("auth", "can-i", "list", "configmaps", "-n", "sales", "--as=" + Op);
        var scale = await kubectl.RunAsync("auth", "can-i", "update", "deployments", "--subresource=scale", "-n", "hr", "--as=jane", "--as-group=scalers");
        var scaleWithoutGroup = await kubectl.RunAsync("auth", "can-i", "update", "deployments", "--subresource=scale", "-n", "hr", "--as=jane");
        var deployment = await kubectl.RunAsync("auth", "can-i", "update", "deployments", "-n", "hr", "--as=jane", "--as-group=scalers");
        var named = await kubectl.RunAsync("auth", "can-i", "get", "secrets/mine", "-n", "hr", "--as=jane", "--as-group=scalers");
        var otherName = await kubectl.RunAsync("auth", "can-i", "get", "secrets/other", "-n", "hr", "--as=jane", "--as-group=scalers");

        Assert.Equal((0, "yes"), (adminSecrets.ExitCode, adminSecrets.Out.Trim()));
        Assert.Equal((0, "yes"), (inHr.ExitCode, inHr.Out.Trim()));
        Assert.Equal((1, "no"), (inSales.ExitCode, inSales.Out.Trim()));
        Assert.Equal("yes", scale.Out.Trim());
        Assert.Equal("no", scaleWithoutGroup.Out.Trim());
        Assert.Equal("no", deployment.Out.Trim());
        Assert.Equal("yes", named.Out.Trim());
        Assert.Equal("no", otherName.Out.Trim());
    }

    [Fact]
    public async Task Can_i_list_shows_the_rules_bound_in_the_namespace()
    {
        var (server, kubectl) = await StartAsync(rbac: true);
        using var admin = Admin(server);
        await admin.GrantAsync("cm-reader", null, "hr", [Rule(["get", "list"], [""], ["configmaps"]), Rule(["get"], [""], ["secrets"], ["mine"])], Subject("ServiceAccount", "op", "ops"));

        var hr = await kubectl.RunAsync("auth", "can-i", "--list", "-n", "hr", "--as=" + Op);
        var sales = await kubectl.RunAsync("auth", "can-i", "--list", "-n", "sales", "--as=" + Op);

        Assert.Equal(0, hr.ExitCode);
        Assert.Matches(@"(?m)^configmaps\s+\[\]\s+\[\]\s+\[get list\]", hr.Out);
        Assert.Matches(@"(?m)^secrets\s+\[\]\s+\[mine\]\s+\[get\]", hr.Out);
        Assert.Matches(@"(?m)^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]", hr.Out);
        Assert.DoesNotMatch(@"(?m)^configmaps", sales.Out);
    }

    [Fact]
    public async Task Service_account_kubeconfig_is_refused_with_the_real_forbidden_message_and_whoami_names_it()
    {
        var (server, kubectl) = await StartAsync(rbac: true);
        var kubeconfig = kubectl.WriteFile("op.kubeconfig", server.ServiceAccountKubeconfig("ops", "op"));

        var secrets = await kubectl.RunAsync("--kubeconfig", kubeconfig, "get", "secrets", "-n", "hr");
        var whoami = await kubectl.RunAsync("--kubeconfig", kubeconfig, "auth", "whoami");
        var canI = await kubectl.RunAsync("--kubeconfig", kubeconfig, "auth", "can-i", "list", "secrets", "-n", "hr");
        var impersonate = await kubectl.RunAsync("--kubeconfig", kubeconfig, "get", "configmaps", "--as=jane");

        Assert.Equal(1, secrets.ExitCode);
        Assert.Equal("Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:ops:op\" cannot list resource \"secrets\" in API group \"\" in the namespace \"hr\"", secrets.Err.Trim());
        Assert.Matches(@"Username\s+system:serviceaccount:ops:op", whoami.Out);
        Assert.Equal("no", canI.Out.Trim());
        Assert.Contains("users \"jane\" is forbidden: User \"system:serviceaccount:ops:op\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope", impersonate.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Create_token_mints_a_token_with_the_requested_audience_and_duration(bool rbac)
    {
        var (server, kubectl) = await StartAsync(rbac);

        var created = await kubectl.RunAsync("create", "token", "op", "-n", "ops", "--audience", "receiver", "--duration", "15m");
        var token = created.Out.Trim();
        using var admin = Admin(server);
        var (_, review) = await admin.PostJsonAsync("/apis/authentication.k8s.io/v1/tokenreviews", new JsonObject { ["spec"] = new JsonObject { ["token"] = token, ["audiences"] = new JsonArray("receiver") } });
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(token.Split('.')[1]))!;
        var missing = await kubectl.RunAsync("create", "token", "nobody", "-n", "ops");
        await admin.CreateAsync("/api/v1/namespaces/ops/pods", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "p" },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "i" }) },
        });
        var bound = await kubectl.RunAsync("create", "token", "op", "-n", "ops", "--bound-object-kind", "Pod", "--bound-object-name", "p");
        var boundClaims = JsonNode.Parse(Base64Url.DecodeFromChars(bound.Out.Trim().Split('.')[1]))!;

        Assert.True(created.ExitCode == 0, created.Err);
        Assert.True((bool)review!["status"]!["authenticated"]!);
        Assert.Equal(Op, (string?)review["status"]!["user"]!["username"]);
        Assert.Equal(900, (long)claims["exp"]! - (long)claims["iat"]!);
        Assert.Equal(["receiver"], claims["aud"]!.AsArray().Select(a => (string)a!));
        Assert.Contains("serviceaccounts \"nobody\" not found", missing.Err, StringComparison.Ordinal);
        Assert.Equal("p", (string?)boundClaims["kubernetes.io"]!["pod"]!["name"]);
    }

    [Fact]
    public async Task Reviews_and_the_token_subresource_are_discovered_as_create_only()
    {
        var (server, kubectl) = await StartAsync(rbac: true);

        var resources = await kubectl.RunAsync("api-resources", "-o", "wide");
        var canI = await kubectl.RunAsync("auth", "can-i", "create", "tokenreviews", "--as=" + Op);
        using var admin = Admin(server);
        var (listCode, _) = await admin.GetJsonAsync("/apis/authentication.k8s.io/v1/tokenreviews");
        var (_, coreV1) = await admin.GetJsonAsync("/api/v1");

        Assert.Matches(@"(?m)^tokenreviews\s+authentication\.k8s\.io/v1\s+false\s+TokenReview\s+create\s*$", resources.Out);
        Assert.Matches(@"(?m)^localsubjectaccessreviews\s+authorization\.k8s\.io/v1\s+true\s+LocalSubjectAccessReview\s+create\s*$", resources.Out);
        Assert.Equal("no", canI.Out.Trim());
        Assert.DoesNotContain("doesn't have a resource type", canI.Err, StringComparison.Ordinal);
        Assert.Contains("resource 'tokenreviews' is not namespace scoped", canI.Err, StringComparison.Ordinal);
        Assert.Equal(405, listCode);
        Assert.Contains(coreV1!["resources"]!.AsArray(), r => (string?)r!["name"] == "serviceaccounts/token" && (string?)r["kind"] == "TokenRequest");
    }

    private async Task<(KubeApiServer Server, Kubectl Kubectl)> StartAsync(bool rbac)
    {
        var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { Rbac = rbac });
        _servers.Add(server);
        using var admin = Admin(server);
        foreach (var ns in new[] { "ops", "hr", "sales" })
        {
            await admin.CreateNamespaceAsync(ns);
        }

        await admin.CreateServiceAccountAsync("ops", "op");
        var kubectl = await Kubectl.ForAsync(server);
        _kubectls.Add(kubectl);
        return (server, kubectl);
    }
}
