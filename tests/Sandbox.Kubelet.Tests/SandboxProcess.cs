using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Greenhouse.Testing;
using Sandbox.Kubelet;

namespace Sandbox.Kubelet.Tests;

/// <summary>
/// <c>sandbox run</c> from its build output as <c>make run</c> starts it, on free ports, a pod range and a state
/// folder of its own: its output, kubeconfig, simulator URLs, and the examples applied with kubectl. Disposing
/// kills what is left and removes the state folder.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed partial class SandboxProcess : IAsyncDisposable
{
    public static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

    private readonly StringBuilder output = new();
    private readonly Process process;

    private SandboxProcess(Process process, string state, string firstPodIp)
    {
        this.process = process;
        State = state;
        FirstPodIp = firstPodIp;
    }

    public string State { get; }

    public string FirstPodIp { get; }

    public int Id => process.Id;

    public string Kubeconfig => Path.Combine(State, "kubeconfig");

    /// <summary>The Greenhouse UI (simulator control), e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public string ControlUrl => ControlUrlPattern().Match(Output()).Groups[1].Value;

    /// <summary>The simulator's root (Harvest under <c>v3</c>, token at <c>token</c>).</summary>
    public string GreenhouseUrl => GreenhouseUrlPattern().Match(Output()).Groups[1].Value;

    /// <summary>
    /// Starts <c>sandbox run</c> with <paramref name="arguments"/> (besides the ports, state and pod range) and
    /// <paramref name="environment"/> (e.g. <c>Operator__HealthPollInterval</c>: the operator inherits it), and waits
    /// until its output contains <paramref name="readyText"/>.
    /// </summary>
    public static async Task<SandboxProcess> StartAsync(
        string name,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        string readyText = "Next steps")
    {
        var configuration = typeof(SandboxProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var state = Path.Combine(Path.GetTempPath(), $"sandbox-{name}-" + Guid.NewGuid().ToString("N"));
        var firstPodIp = KubeletTest.RandomPodRange().ToString();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        foreach (var argument in new[] { RepositoryPaths.Combine("sandbox", "Sandbox", "bin", configuration, "net10.0", "Sandbox.dll"), "run", "--port", "0", "--greenhouse-port", "0", "--control-port", "0", "--state", state, "--first-pod-ip", firstPodIp }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var sandbox = new SandboxProcess(Process.Start(start)!, state, firstPodIp);
        sandbox.process.OutputDataReceived += (_, e) => sandbox.Append(e.Data);
        sandbox.process.ErrorDataReceived += (_, e) => sandbox.Append(e.Data);
        sandbox.process.BeginOutputReadLine();
        sandbox.process.BeginErrorReadLine();
        try
        {
            await Eventually.TrueAsync(() => sandbox.Output().Contains(readyText, StringComparison.Ordinal) || sandbox.process.HasExited, "the sandbox prints its next steps", TimeSpan.FromSeconds(60));
            Assert.False(sandbox.process.HasExited, "the sandbox exited while starting:\n" + sandbox.Output());
        }
        catch
        {
            await sandbox.DisposeAsync();
            throw;
        }

        return sandbox;
    }

    public string Output()
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>examples/sandbox/ pointed at this sandbox's simulator, changed by <paramref name="edit"/>, applied with kubectl.</summary>
    public async Task ApplyExamplesAsync(Func<string, string>? edit = null)
    {
        // The examples name the simulator's default port; this sandbox took a free one.
        var examples = string.Join("\n---\n", Directory.GetFiles(RepositoryPaths.Combine("examples", "sandbox"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText))
            .Replace("http://127.0.0.1:7470/", GreenhouseUrl, StringComparison.Ordinal);
        var applied = await ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", Kubeconfig, "apply", "-f", "-"], edit is null ? examples : edit(examples));
        Assert.True(applied.ExitCode == 0, applied.ToString());
    }

    public Task<ToolResult> Kubectl(params string[] arguments) => KubectlAs(Kubeconfig, arguments);

    public static Task<ToolResult> KubectlAs(string kubeconfig, params string[] arguments) =>
        ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", kubeconfig, .. arguments]);

    /// <summary><c>kubectl get</c> with a jsonpath, its output.</summary>
    public async Task<string> JsonPath(string resource, string name, string ns, string jsonPath) =>
        (await Kubectl("get", resource, name, "-n", ns, "-o", "jsonpath=" + jsonPath)).StandardOutput;

    /// <summary>The simulator control's answer to a request (throws unless it succeeded).</summary>
    public async Task<string> ControlAsync(HttpMethod method, string pathAndQuery)
    {
        using var request = new HttpRequestMessage(method, new Uri(ControlUrl + pathAndQuery));
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {pathAndQuery}: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>SIGTERM, as Ctrl-C in a terminal; its exit code.</summary>
    public async Task<int> StopAsync()
    {
        Posix.Terminate(process.Id);
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(exit.Token);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        if (Directory.Exists(State))
        {
            Directory.Delete(State, recursive: true);
        }
    }

    private void Append(string? line)
    {
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    [GeneratedRegex(@"Greenhouse UI\s+(http://\S+/)")]
    private static partial Regex ControlUrlPattern();

    [GeneratedRegex(@"Greenhouse\s+(http://\S+/) \(Harvest")]
    private static partial Regex GreenhouseUrlPattern();
}
