using System.Diagnostics;
using Greenhouse.Testing;
using k8s;

namespace Sandbox.Kubelet.Tests;

/// <summary>The real <c>kubectl logs</c> against the emulator with this kubelet registered as its log source, as <c>sandbox run</c> wires them.</summary>
public sealed class KubectlLogsTests : KubeletTest
{
    [Fact]
    public async Task Kubectl_logs_reads_the_running_process_and_previous_reads_the_crashed_run()
    {
        Server.ContainerLogs = Kubelet;
        var kubeconfig = Path.Combine(StateDirectory, "kubeconfig");
        await Server.WriteKubeconfigAsync(kubeconfig);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("talker", 1), Namespace);
        await WaitAvailableAsync("talker", 1);
        var first = Assert.Single(Kubelet.Pods);
        var firstPid = first.Containers[0].ProcessId;
        await Eventually.TrueAsync(async () => (await KubectlAsync(kubeconfig, "logs", "deploy/talker")).StandardOutput.Contains($"test pod {firstPid} listening", StringComparison.Ordinal), "kubectl logs deploy/talker shows the first run");

        await AskAsync(first.PodIp, "/exit/3");
        await Eventually.TrueAsync(() => Kubelet.Pods.Single().Containers[0] is { ProcessId: { } pid, RestartCount: 1 } && pid != firstPid, "the container restarts");
        var secondPid = Kubelet.Pods.Single().Containers[0].ProcessId;
        await Eventually.TrueAsync(async () => (await KubectlAsync(kubeconfig, "logs", first.Name)).StandardOutput.Contains($"test pod {secondPid} listening", StringComparison.Ordinal), "kubectl logs shows the second run");

        var current = await KubectlAsync(kubeconfig, "logs", first.Name, "--timestamps");
        var previous = await KubectlAsync(kubeconfig, "logs", first.Name, "--previous");

        Assert.DoesNotContain($"test pod {firstPid} ", current.StandardOutput, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{9}}Z test pod {secondPid} listening", current.StandardOutput);
        Assert.True(previous.ExitCode == 0, previous.StandardError);
        Assert.Contains($"test pod {firstPid} listening", previous.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(["0.log", "1.log"], Directory.GetFiles(Path.Combine(first.Directory, "logs", "main")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Kubectl_logs_follow_ends_when_the_process_exits()
    {
        Server.ContainerLogs = Kubelet;
        var kubeconfig = Path.Combine(StateDirectory, "kubeconfig");
        await Server.WriteKubeconfigAsync(kubeconfig);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("follow", 1), Namespace);
        await WaitAvailableAsync("follow", 1);
        var pod = Assert.Single(Kubelet.Pods);
        var pid = pod.Containers[0].ProcessId;

        var start = new ProcessStartInfo(ExternalTool.Kubectl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--kubeconfig", kubeconfig, "logs", "-f", pod.Name })
        {
            start.ArgumentList.Add(arg);
        }

        using var follow = Process.Start(start)!;
        var firstLine = await follow.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await AskAsync(pod.PodIp, "/exit/0");
        var rest = follow.StandardOutput.ReadToEndAsync();
        await follow.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith($"test pod {pid} listening", firstLine, StringComparison.Ordinal);
        Assert.Equal(0, follow.ExitCode);
        Assert.DoesNotContain("error", await rest, StringComparison.OrdinalIgnoreCase);
    }

    private static Task<ToolResult> KubectlAsync(string kubeconfig, params string[] args) =>
        ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", kubeconfig, .. args], timeout: TimeSpan.FromSeconds(60));
}
