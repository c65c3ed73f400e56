using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Greenhouse.Testing;
using Sandbox.Kubelet;

namespace Sandbox.Kubelet.Tests;

/// <summary>
/// <c>sandbox run</c> as <c>make run</c> starts it, driven with the real kubectl: the example integration
/// becomes Ready, its receiver sweeps the simulator over Harvest, its API admits only the example's
/// ServiceAccount (tokens from <c>kubectl create token</c>, checked by the receiver against the emulator's
/// keys, which it reaches through what the local kubelet injects), a change made in the Greenhouse
/// simulator reaches the receiver's mirror as a signed webhook and the integration's status (LAST EVENT within
/// two health polls, candidates as in the mirror, all five conditions True), a changed user secret is adopted
/// without a rejected delivery, and stopping the sandbox stops every process it started.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(WholeSandbox.Name)]
public sealed class SandboxRunTests : WholeSandboxTest
{
    /// <summary>Short enough that "within two polls" is seconds; the operator inherits these from the sandbox.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(3);

    /// <summary>Beyond the polls: a reconcile, a status write and kubectl's own start on a loaded machine.</summary>
    private static readonly TimeSpan ReconcileAndKubectl = TimeSpan.FromSeconds(5);

    private static readonly HttpClient Http = SandboxProcess.Http;
    [Fact]
    public async Task Sandbox_run_serves_the_example_end_to_end_to_its_authorized_client_only_and_stops_every_process_on_sigterm()
    {
        Sandbox = await SandboxProcess.StartAsync("run", ["--candidates", "20"], new Dictionary<string, string>
        {
            ["Operator__HealthPollInterval"] = PollInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Operator__StatusWriteInterval"] = PollInterval.ToString("c", CultureInfo.InvariantCulture),
        });
        var firstPodIp = Sandbox.FirstPodIp;
        var state = Sandbox.State;
        var kubeconfig = Sandbox.Kubeconfig;
        var control = Sandbox.ControlUrl;
        await Sandbox.ApplyExamplesAsync();

        await Eventually.TrueAsync(
            async () => (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")).StandardOutput == "True",
            "the example integration is Ready",
            TimeSpan.FromSeconds(60));
        var podIp = (await Kubectl(kubeconfig, "get", "pods", "-n", "recruiting", "-l", "app.kubernetes.io/instance=acme", "-o", "jsonpath={.items[0].status.podIP}")).StandardOutput;
        var containerId = (await Kubectl(kubeconfig, "get", "pods", "-n", "recruiting", "-l", "app.kubernetes.io/instance=acme", "-o", "jsonpath={.items[0].status.containerStatuses[0].containerID}")).StandardOutput;
        var receiverPid = int.Parse(containerId["local://".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(firstPodIp, podIp);

        // The example grants ServiceAccount recruiting/crm-sync `read` (spec.api.clients); tokens are for the receiver's audience.
        var token = await CreateToken(kubeconfig, "crm-sync");

        // Harvest: the receiver's first sweep mirrors every candidate of the simulator.
        await Eventually.TrueAsync(
            async () => (await Get($"http://{podIp}:8082/v1/health/sync", token)).Body.Contains("\"candidates\":20,", StringComparison.Ordinal),
            "the receiver's Harvest sweep mirrored the 20 simulated candidates",
            TimeSpan.FromSeconds(30));

        // Issue 15's done-when: 401 without a token, 403 for a ServiceAccount not in spec.api.clients,
        // 200 for the example's ServiceAccount reading, 403 for its write-back (it holds only `read`).
        var someCandidate = Regex.Match(await Http.GetStringAsync(new Uri(control + "candidates")), @"""first"":\[(\d+)").Groups[1].Value;
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Get($"http://{podIp}:8082/v1/candidates/{someCandidate}", null)).Status);
        Assert.True((await Kubectl(kubeconfig, "create", "serviceaccount", "stranger", "-n", "recruiting")).ExitCode == 0);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await Get($"http://{podIp}:8082/v1/candidates/{someCandidate}", await CreateToken(kubeconfig, "stranger"))).Status);
        var read = await Get($"http://{podIp}:8082/v1/candidates/{someCandidate}", token);
        Assert.True(read.Status == System.Net.HttpStatusCode.OK, read.Body);
        Assert.Contains(someCandidate, read.Body, StringComparison.Ordinal);
        using (var note = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://{podIp}:8082/v1/candidates/{someCandidate}/notes")))
        {
            note.Headers.Authorization = new("Bearer", token);
            note.Content = new StringContent("""{"clientRequestId":"sandbox-test-1","body":"not allowed"}""", Encoding.UTF8, "application/json");
            using var refused = await Http.SendAsync(note);
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        }

        // The "Greenhouse admin" registers the webhook once the pod is Ready; a change then arrives signed.
        await Eventually.TrueAsync(() => Sandbox.Output().Contains($"now posts to http://{podIp}:8080/greenhouse/acme", StringComparison.Ordinal), "the webhook is configured in the simulator", TimeSpan.FromSeconds(30));
        var candidates = await Http.GetStringAsync(new Uri(control + "candidates"));
        var candidate = Regex.Match(candidates, @"""first"":\[(\d+)").Groups[1].Value;
        using (var update = await Http.PostAsync(new Uri($"{control}candidates/{candidate}/update?title=Sandbox%20Tester"), null))
        {
            update.EnsureSuccessStatusCode();
        }

        await Eventually.TrueAsync(
            async () =>
            {
                var (status, body) = await Get($"http://{podIp}:8082/v1/candidates/{candidate}", token);
                return status == System.Net.HttpStatusCode.OK && body.Contains("Sandbox Tester", StringComparison.Ordinal);
            },
            "the receiver's mirror has the changed candidate",
            TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(
            async () => Regex.IsMatch(await Http.GetStringAsync(new Uri(control + "webhooks")), @"""action"":""update_candidate"",""endpoint"":""http://" + Regex.Escape(podIp) + @":8080/greenhouse/acme"",""state"":""Delivered"",""attempts"":1,""lastStatusCode"":200"),
            "the simulator delivered update_candidate, signed, to the pod at the first attempt");

        // The operator polls the pod's SyncHealth every PollInterval (±10 %) and writes what changed: the last event
        // shows within two polls (plus the reconcile and kubectl's own time), candidates equal the receiver's mirror.
        await Eventually.TrueAsync(
            async () => (await Sandbox.JsonPath("ghi", "acme", "recruiting", "{.status.sync.lastEventAt}")).StartsWith('2'),
            "status.sync.lastEventAt is set within two polls",
            (2 * 1.1 * PollInterval) + ReconcileAndKubectl);
        // NAME READY WEBHOOK-URL LAST-EVENT LAG AGE: an empty LAST EVENT column leaves five values.
        var row = (await Sandbox.Kubectl("get", "ghi", "acme", "-n", "recruiting", "--no-headers")).StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(row.Length == 6, string.Join(' ', row));
        Assert.Matches("^[0-9]+[smh]", row[3]);
        var mirrored = JsonDocument.Parse((await Get($"http://{podIp}:8082/v1/health/sync", token)).Body).RootElement.GetProperty("candidates").ToString();
        Assert.Equal(mirrored, await Sandbox.JsonPath("ghi", "acme", "recruiting", "{.status.sync.candidates}"));
        Assert.Equal("20", mirrored);
        await Eventually.TrueAsync(
            async () => (await Sandbox.JsonPath("ghi", "acme", "recruiting", "{range .status.conditions[*]}{.type}={.status} {end}")).Trim()
                == "Ready=True ReceiverAvailable=True WebhookSecretReady=True HarvestAuthenticated=True Synced=True",
            "all five conditions are True",
            TimeSpan.FromSeconds(30));

        // A changed webhook secret: the old key stays accepted, the "admin" pastes the new one, the receiver
        // verifies a delivery with it (reported through SyncHealth) and the operator records the adoption.
        var patched = await Kubectl(kubeconfig, "patch", "secret", "acme-webhook", "-n", "recruiting", "--type=merge", "-p", "{\"stringData\":{\"secret_key\":\"sandbox-webhook-secret-rotated-32-bytes-or-more\"}}");
        Assert.True(patched.ExitCode == 0, patched.ToString());
        await Eventually.TrueAsync(
            async () => (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={.status.webhook.secretVersion}")).StandardOutput == "2",
            "secretVersion 2 after the change",
            TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => Regex.Count(Sandbox.Output(), "now posts to") >= 2, "the admin pasted the new key", TimeSpan.FromSeconds(30));
        using (var update = await Http.PostAsync(new Uri($"{control}candidates/{candidate}/update?title=Rotated%20Tester"), null))
        {
            update.EnsureSuccessStatusCode();
        }

        await Eventually.TrueAsync(
            async () => (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={.status.webhook.adopted}")).StandardOutput == "true",
            "the operator sees the new key adopted",
            TimeSpan.FromSeconds(90));
        Assert.DoesNotContain("\"lastStatusCode\":401", await Http.GetStringAsync(new Uri(control + "webhooks")), StringComparison.Ordinal);

        Assert.Equal(0, await Sandbox.StopAsync());
        Assert.False(KubeletTest.ProcessAlive(receiverPid), "the receiver process is stopped with the sandbox");
        Assert.DoesNotMatch("Greenhouse.Operator.dll", string.Join('\n', Process.GetProcessesByName("dotnet").Select(p => CommandLine(p, state))));
    }

    private static async Task<string> CreateToken(string kubeconfig, string serviceAccount)
    {
        var created = await Kubectl(kubeconfig, "create", "token", serviceAccount, "-n", "recruiting", "--audience", "greenhouse-receiver/recruiting/acme");
        Assert.True(created.ExitCode == 0, created.ToString());
        return created.StandardOutput.Trim();
    }

    private static async Task<(System.Net.HttpStatusCode Status, string Body)> Get(string url, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url));
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        using var response = await Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Task<ToolResult> Kubectl(string kubeconfig, params string[] arguments) => SandboxProcess.KubectlAs(kubeconfig, arguments);

    // Only the operator of this test's sandbox: its working directory is the test's state folder.
    private static string CommandLine(Process process, string state)
    {
        try
        {
            var cwd = new DirectoryInfo($"/proc/{process.Id}/cwd").LinkTarget;
            return cwd == state ? File.ReadAllText($"/proc/{process.Id}/cmdline").Replace('\0', ' ') : "";
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
        finally
        {
            process.Dispose();
        }
    }
}
