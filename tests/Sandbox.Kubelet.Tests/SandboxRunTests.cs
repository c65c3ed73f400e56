using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Greenhouse.Testing;
using Sandbox.Kubelet;

namespace Sandbox.Kubelet.Tests;

/// <summary>
/// <c>sandbox run</c> as <c>make run</c> starts it, driven with the real kubectl: the example integration
/// becomes Ready, its receiver sweeps the simulator over Harvest, its API admits only the example's
/// ServiceAccount (tokens from <c>kubectl create token</c>, checked by the receiver against the emulator's
/// keys, which it reaches through what the local kubelet injects), a change made in the Greenhouse
/// simulator reaches the receiver's mirror as a signed webhook, and stopping the sandbox stops every
/// process it started.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class SandboxRunTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
    private readonly string state = Path.Combine(Path.GetTempPath(), "sandbox-run-" + Guid.NewGuid().ToString("N"));
    private readonly StringBuilder output = new();
    private Process? sandbox;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (sandbox is { HasExited: false })
        {
            sandbox.Kill(entireProcessTree: true);
            await sandbox.WaitForExitAsync();
        }

        sandbox?.Dispose();
        if (Directory.Exists(state))
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Sandbox_run_serves_the_example_end_to_end_to_its_authorized_client_only_and_stops_every_process_on_sigterm()
    {
        var firstPodIp = KubeletTest.RandomPodRange().ToString();
        var configuration = typeof(SandboxRunTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        foreach (var argument in new[] { RepositoryPaths.Combine("sandbox", "Sandbox", "bin", configuration, "net10.0", "Sandbox.dll"), "run", "--port", "0", "--greenhouse-port", "0", "--control-port", "0", "--candidates", "20", "--state", state, "--first-pod-ip", firstPodIp })
        {
            start.ArgumentList.Add(argument);
        }

        sandbox = Process.Start(start)!;
        sandbox.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        sandbox.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        sandbox.BeginOutputReadLine();
        sandbox.BeginErrorReadLine();
        await Eventually.TrueAsync(() => Output().Contains("Next steps", StringComparison.Ordinal), "the sandbox prints its next steps", TimeSpan.FromSeconds(60));

        var kubeconfig = Path.Combine(state, "kubeconfig");
        var control = ControlUrl().Match(Output()).Groups[1].Value;
        var greenhouse = GreenhouseUrl().Match(Output()).Groups[1].Value;
        // The examples name the simulator's default port; this sandbox took a free one.
        var examples = string.Join("\n---\n", Directory.GetFiles(RepositoryPaths.Combine("examples", "sandbox"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText));
        var applied = await ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", kubeconfig, "apply", "-f", "-"], examples.Replace("http://127.0.0.1:7470/", greenhouse, StringComparison.Ordinal));
        Assert.True(applied.ExitCode == 0, applied.ToString());

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
        await Eventually.TrueAsync(() => Output().Contains($"now posts to http://{podIp}:8080/greenhouse/acme", StringComparison.Ordinal), "the webhook is configured in the simulator", TimeSpan.FromSeconds(30));
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

        // The operator polls the pod's SyncHealth (every 30 s): status.sync shows the delivery and the mirror, all five conditions are True.
        await Eventually.TrueAsync(
            async () => (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={.status.sync.candidates} {.status.sync.lastEventAt}")).StandardOutput is var sync
                && sync.StartsWith("20 2", StringComparison.Ordinal),
            "status.sync has the mirror's candidates and the last event",
            TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(
            async () => (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={range .status.conditions[*]}{.type}={.status} {end}")).StandardOutput.Trim()
                == "Ready=True ReceiverAvailable=True WebhookSecretReady=True HarvestAuthenticated=True Synced=True",
            "all five conditions are True",
            TimeSpan.FromSeconds(90));

        // A changed webhook secret: the old key stays accepted, the "admin" pastes the new one, the receiver
        // verifies a delivery with it (reported through SyncHealth) and the operator records the adoption.
        var patched = await Kubectl(kubeconfig, "patch", "secret", "acme-webhook", "-n", "recruiting", "--type=merge", "-p", "{\"stringData\":{\"secret_key\":\"sandbox-webhook-secret-rotated-32-bytes-or-more\"}}");
        Assert.True(patched.ExitCode == 0, patched.ToString());
        await Eventually.TrueAsync(
            async () => (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={.status.webhook.secretVersion}")).StandardOutput == "2",
            "secretVersion 2 after the change",
            TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => Regex.Count(Output(), "now posts to") >= 2, "the admin pasted the new key", TimeSpan.FromSeconds(30));
        using (var update = await Http.PostAsync(new Uri($"{control}candidates/{candidate}/update?title=Rotated%20Tester"), null))
        {
            update.EnsureSuccessStatusCode();
        }

        await Eventually.TrueAsync(
            async () => (await Kubectl(kubeconfig, "get", "ghi", "acme", "-n", "recruiting", "-o", "jsonpath={.status.webhook.adopted}")).StandardOutput == "true",
            "the operator sees the new key adopted",
            TimeSpan.FromSeconds(90));
        Assert.DoesNotContain("\"lastStatusCode\":401", await Http.GetStringAsync(new Uri(control + "webhooks")), StringComparison.Ordinal);

        Posix.Terminate(sandbox.Id);
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await sandbox.WaitForExitAsync(exit.Token);
        Assert.Equal(0, sandbox.ExitCode);
        Assert.False(KubeletTest.ProcessAlive(receiverPid), "the receiver process is stopped with the sandbox");
        Assert.DoesNotMatch("Greenhouse.Operator.dll", string.Join('\n', Process.GetProcessesByName("dotnet").Select(CommandLine)));
    }

    private string Output()
    {
        lock (output)
        {
            return output.ToString();
        }
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

    private static Task<ToolResult> Kubectl(string kubeconfig, params string[] arguments) =>
        ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", kubeconfig, .. arguments]);

    // Only the operator of this test's sandbox: its working directory is the test's state folder.
    private string CommandLine(Process process)
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

    [GeneratedRegex(@"Greenhouse UI\s+(http://\S+/)")]
    private static partial Regex ControlUrl();

    [GeneratedRegex(@"Greenhouse\s+(http://\S+/) \(Harvest")]
    private static partial Regex GreenhouseUrl();
}
