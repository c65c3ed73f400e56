using k8s;
using k8s.Models;

namespace Sandbox.Kubelet.Tests;

public sealed class StatusOnlyTests : KubeletTest
{
    protected override bool StatusOnly => true;

    [Fact]
    public async Task Status_only_mode_creates_ready_pods_and_available_deployments_without_processes()
    {
        for (var i = 0; i < 20; i++)
        {
            await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment($"bulk-{i}", 2, spec => spec.Containers[0].Image = "example.com/not-runnable:1"), Namespace);
        }

        for (var i = 0; i < 20; i++)
        {
            await WaitAvailableAsync($"bulk-{i}", 2);
        }

        var pods = (await Client.CoreV1.ListNamespacedPodAsync(Namespace)).Items;
        Assert.Equal(40, pods.Count);
        Assert.Equal(40, pods.Select(p => p.Status.PodIP).Distinct().Count());
        Assert.All(pods, p => Assert.Contains(p.Status.Conditions, c => c.Type == "Ready" && c.Status == "True"));
        Assert.All(Kubelet.Pods, p => Assert.Null(p.Containers[0].ProcessId));
        Assert.False(Directory.Exists(Path.Combine(StateDirectory, "pods")));
    }
}
