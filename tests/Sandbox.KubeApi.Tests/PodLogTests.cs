using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Greenhouse.Testing;

namespace Sandbox.KubeApi.Tests;

/// <summary><c>kubectl logs</c> through pods/log, from CRI-format files a node (here a fake one) registers.</summary>
public sealed class PodLogTests : EmulatorTest
{
    private readonly FakeLogs _logs = new();
    private Kubectl _kubectl = null!;

    protected override async Task ArrangeAsync()
    {
        _kubectl = await Kubectl.ForAsync(Server);
        Server.ContainerLogs = _logs;
        var deployment = await _kubectl.RunAsync("create", "deployment", "web", "--image=example.com/web:1");
        Assert.True(deployment.ExitCode == 0, deployment.Err);
        await CreatePodAsync("web-abc12", ["app", "sidecar"], new JsonObject { ["app"] = "web" });
    }

    protected override Task CleanUpAsync()
    {
        _kubectl.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Logs_of_a_deployment_come_from_its_pod_with_tail_container_and_timestamps()
    {
        var now = DateTimeOffset.UtcNow;
        _logs.Write("web-abc12", "app", false, running: true, (now.AddMinutes(-10), "stdout", "starting"), (now.AddMinutes(-5), "stderr", "warming up"), (now.AddSeconds(-2), "stdout", "ready"));
        _logs.Write("web-abc12", "sidecar", false, running: true, (now, "stdout", "sidecar line"));

        var all = await _kubectl.RunAsync("logs", "deploy/web", "-c", "app");
        var tail = await _kubectl.RunAsync("logs", "web-abc12", "-c", "app", "--tail=2");
        var since = await _kubectl.RunAsync("logs", "web-abc12", "-c", "app", "--since=1m");
        var stamped = await _kubectl.RunAsync("logs", "web-abc12", "-c", "sidecar", "--timestamps");
        var limited = await _kubectl.RunAsync("logs", "web-abc12", "-c", "app", "--limit-bytes=5");

        Assert.True(all.ExitCode == 0, all.Err);
        Assert.Equal("starting\nwarming up\nready\n", all.Out);
        Assert.Equal("warming up\nready\n", tail.Out);
        Assert.Equal("ready\n", since.Out);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z sidecar line\n$", stamped.Out);
        Assert.Equal("start", limited.Out);
    }

    [Fact]
    public async Task Previous_shows_the_last_terminated_run_and_its_absence_is_a_clear_error()
    {
        var missing = await _kubectl.RunAsync("logs", "web-abc12", "-c", "app", "--previous");
        _logs.Write("web-abc12", "app", true, running: false, (DateTimeOffset.UtcNow, "stderr", "Unhandled exception: boom"));
        _logs.Write("web-abc12", "app", false, running: true, (DateTimeOffset.UtcNow, "stdout", "second run"));

        var previous = await _kubectl.RunAsync("logs", "web-abc12", "-c", "app", "-p");

        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("previous terminated container \"app\" in pod \"web-abc12\" not found", missing.Err);
        Assert.Equal("Unhandled exception: boom\n", previous.Out);
    }

    [Fact]
    public async Task Follow_streams_new_lines_and_ends_when_the_container_stops()
    {
        _logs.Write("web-abc12", "app", false, running: true, (DateTimeOffset.UtcNow, "stdout", "one"));
        using var follow = _kubectl.Start("logs", "-f", "web-abc12", "-c", "app");
        var lines = new BlockingCollection<string>();
        follow.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lines.Add(e.Data);
            }
        };
        follow.BeginOutputReadLine();

        Assert.True(lines.TryTake(out var first, TimeSpan.FromSeconds(30)) && first == "one", "the existing line arrives");
        _logs.Append("web-abc12", "app", (DateTimeOffset.UtcNow, "stdout", "two"));
        Assert.True(lines.TryTake(out var second, TimeSpan.FromSeconds(30)) && second == "two", "an appended line streams");
        Assert.False(follow.HasExited);
        _logs.Stop("web-abc12", "app");

        await follow.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        Assert.Equal(0, follow.ExitCode);
    }

    [Fact]
    public async Task Container_choice_and_missing_logs_answer_like_the_kubelet()
    {
        var (noContainerCode, noContainer) = await Http.GetJsonAsync("/api/v1/namespaces/default/pods/web-abc12/log");
        var (badCode, bad) = await Http.GetJsonAsync("/api/v1/namespaces/default/pods/web-abc12/log?container=nope");
        var (waitingCode, waiting) = await Http.GetJsonAsync("/api/v1/namespaces/default/pods/web-abc12/log?container=app");
        var (absentCode, _) = await Http.GetJsonAsync("/api/v1/namespaces/default/pods/absent/log");

        Assert.Equal(400, noContainerCode);
        Assert.Equal("a container name must be specified for pod web-abc12, choose one of: [app sidecar]", (string?)noContainer!["message"]);
        Assert.Equal(400, badCode);
        Assert.Equal("container nope is not valid for pod web-abc12", (string?)bad!["message"]);
        Assert.Equal(400, waitingCode);
        Assert.Equal("container \"app\" in pod \"web-abc12\" is waiting to start: ContainerCreating", (string?)waiting!["message"]);
        Assert.Equal(404, absentCode);
    }

    private async Task CreatePodAsync(string name, string[] containers, JsonObject labels)
    {
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray([.. containers.Select(c => (JsonNode)new JsonObject { ["name"] = c, ["image"] = "example.com/" + c })]) },
        };
        var (code, body) = await Http.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", pod);
        Assert.True(code == 201, body?.ToJsonString());
    }

    /// <summary>A node that keeps CRI log files in a temporary folder.</summary>
    private sealed class FakeLogs : IContainerLogSource
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("pod-logs-").FullName;
        private readonly ConcurrentDictionary<(string Pod, string Container, bool Previous), ContainerLogFile> _files = new();

        public ContainerLogFile? Find(string podNamespace, string pod, string podUid, string container, bool previous) =>
            _files.GetValueOrDefault((pod, container, previous));

        public void Write(string pod, string container, bool previous, bool running, params (DateTimeOffset At, string Stream, string Text)[] lines)
        {
            var path = Path.Combine(_dir, $"{pod}_{container}_{(previous ? 0 : 1)}.log");
            File.WriteAllText(path, string.Concat(lines.Select(Line)));
            _files[(pod, container, previous)] = new ContainerLogFile(path, running);
        }

        public void Append(string pod, string container, params (DateTimeOffset At, string Stream, string Text)[] lines) =>
            File.AppendAllText(_files[(pod, container, false)].Path, string.Concat(lines.Select(Line)));

        public void Stop(string pod, string container) =>
            _files[(pod, container, false)] = _files[(pod, container, false)] with { Running = false };

        private static string Line((DateTimeOffset At, string Stream, string Text) line) =>
            $"{line.At.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fffffff}00Z {line.Stream} F {line.Text}\n";
    }
}
