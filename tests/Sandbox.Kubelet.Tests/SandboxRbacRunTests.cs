using Greenhouse.Testing;

namespace Sandbox.Kubelet.Tests;

/// <summary>
/// <c>sandbox run --rbac</c> (<c>scripts/run-sandbox.sh --rbac</c>): the operator runs as its ServiceAccount under the
/// chart's rendered RBAC, and the example integration still becomes Ready without a single refused request;
/// its receiver, whose pod-bound token is only allowed the issuer discovery, checks API callers' tokens.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(WholeSandbox.Name)]
public sealed class SandboxRbacRunTests : WholeSandboxTest
{
    private const string Operator = "system:serviceaccount:greenhouse-system:greenhouse-operator";
    [Fact]
    public async Task Operator_as_its_service_account_with_the_charts_rbac_makes_the_example_ready()
    {
        Assert.True(File.Exists(ExternalTool.Helm));
        Sandbox = await SandboxProcess.StartAsync("rbac", ["--rbac", "--candidates", "5"], readyText: "RBAC enforced: the operator runs as " + Operator);
        var state = Sandbox.State;
        var kubeconfig = Sandbox.Kubeconfig;
        await Sandbox.ApplyExamplesAsync();

        // A permission the chart lacks shows up as a refusal long before the wait for Ready would time out.
        await Eventually.TrueAsync(
            async () => Refusals().Length > 0 || (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")).StandardOutput == "True",
            "the example integration is Ready with the operator under RBAC",
            TimeSpan.FromSeconds(90));
        Assert.True(Refusals().Length == 0, "RBAC refused the operator what the chart does not grant:\n" + string.Join('\n', Refusals().Distinct()));

        // The receiver fetches the issuer's keys with its own token (system:service-account-issuer-discovery).
        var podIp = (await Kubectl(kubeconfig, "get", "pods", "-n", "recruiting", "-l", "app.kubernetes.io/instance=acme", "-o", "jsonpath={.items[0].status.podIP}")).StandardOutput;
        var token = await Kubectl(kubeconfig, "create", "token", "crm-sync", "-n", "recruiting", "--audience", "greenhouse-receiver/recruiting/acme");
        Assert.True(token.ExitCode == 0, token.ToString());
        using (var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) })
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{podIp}:8082/v1/health/sync")))
        {
            request.Headers.Authorization = new("Bearer", token.StandardOutput.Trim());
            using var response = await http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        var whoami = await Kubectl(Path.Combine(state, "kubeconfig-greenhouse-system-greenhouse-operator"), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
        var statusAllowed = await Kubectl(kubeconfig, "auth", "can-i", "patch", "greenhouseintegrations.greenhouse.resource.io", "--subresource=status", "-n", "recruiting", "--as=" + Operator);
        var clusterRolesDenied = await Kubectl(kubeconfig, "auth", "can-i", "create", "clusterroles", "--as=" + Operator);
        var claimDeleteDenied = await Kubectl(kubeconfig, "auth", "can-i", "delete", "persistentvolumeclaims", "-A", "--as=" + Operator);
        var finalizersAllowed = await Kubectl(kubeconfig, "auth", "can-i", "update", "greenhouseintegrations.greenhouse.resource.io", "--subresource=finalizers", "-A", "--as=" + Operator);
        await Eventually.TrueAsync(
            () => File.Exists(Path.Combine(state, "operator-permissions.tsv")) && File.ReadAllText(Path.Combine(state, "operator-permissions.tsv")).Contains("patch\tgreenhouse.resource.io\tgreenhouseintegrations/status\t", StringComparison.Ordinal),
            "the sandbox records the permissions the operator used");

        Assert.Equal(Operator, whoami.StandardOutput);
        Assert.Equal("yes", statusAllowed.StandardOutput.Trim());
        Assert.Equal("no", clusterRolesDenied.StandardOutput.Trim());
        Assert.Equal("no", claimDeleteDenied.StandardOutput.Trim()); // user data: never deleted by the operator
        Assert.Equal("yes", finalizersAllowed.StandardOutput.Trim()); // blockOwnerDeletion under owner-reference enforcement
        Assert.Empty(Refusals());

        Assert.Equal(0, await Sandbox.StopAsync());
    }

    private string[] Refusals() =>
        [.. Sandbox!.Output().Split('\n').Where(l => l.Contains("RBAC refused the operator", StringComparison.Ordinal)).Select(l => l.Trim())];

    private static Task<ToolResult> Kubectl(string kubeconfig, params string[] arguments) => SandboxProcess.KubectlAs(kubeconfig, arguments);
}
