using Greenhouse.Testing;
using k8s;
using k8s.Models;

namespace Sandbox.Kubelet.Tests;

/// <summary>The real <c>kubectl rollout</c> and <c>kubectl scale</c> against the emulator and this kubelet, which keeps ReplicaSet revisions as the deployment controller does.</summary>
public sealed class KubectlRolloutTests : KubeletTest
{
    private string _kubeconfig = "";

    [Fact]
    public async Task Rollout_restart_status_history_and_undo_move_between_replica_set_revisions()
    {
        await ArrangeKubectlAsync();
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("web", 1), Namespace);
        await WaitAvailableAsync("web", 1);
        var firstHash = await HashOfPodsAsync();

        var restart = await KubectlAsync("rollout", "restart", "deploy/web");
        var status = await KubectlAsync("rollout", "status", "deploy/web", "--timeout=90s");
        var secondHash = await HashOfPodsAsync();
        var history = await KubectlAsync("rollout", "history", "deploy/web");
        var undo = await KubectlAsync("rollout", "undo", "deploy/web", "--to-revision=1");
        var undoStatus = await KubectlAsync("rollout", "status", "deploy/web", "--timeout=90s");
        var afterUndo = await KubectlAsync("rollout", "history", "deploy/web");
        var replicaSets = (await Client.AppsV1.ListNamespacedReplicaSetAsync(Namespace)).Items;

        Assert.True(restart.ExitCode == 0, restart.StandardError);
        Assert.Contains("deployment.apps/web restarted", restart.StandardOutput, StringComparison.Ordinal);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("deployment \"web\" successfully rolled out", status.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual("", firstHash);
        Assert.NotEqual(firstHash, secondHash);
        Assert.Matches(@"(?m)^1\s+<none>\s*\n2\s+<none>", history.StandardOutput);
        Assert.True(undo.ExitCode == 0, undo.ToString());
        Assert.Contains("rolled back", undo.StandardOutput, StringComparison.Ordinal);
        Assert.True(undoStatus.ExitCode == 0, undoStatus.ToString());
        await Eventually.TrueAsync(async () => await HashOfPodsAsync() == firstHash, "the pods are back on the first template");
        Assert.Matches(@"(?m)^2\s+<none>\s*\n3\s+<none>", afterUndo.StandardOutput);
        Assert.Equal(2, replicaSets.Count);
        var first = Assert.Single(replicaSets, rs => rs.Metadata.Labels[LocalKubelet.TemplateHashLabel] == firstHash);
        Assert.Equal("3", first.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal("1", first.Metadata.Annotations["deployment.kubernetes.io/revision-history"]);
        Assert.Equal($"web-{firstHash}", first.Name());
        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", Namespace);
        Assert.Equal("3", deployment.Metadata.Annotations["deployment.kubernetes.io/revision"]);
    }

    [Fact]
    public async Task Scale_changes_the_pod_count_and_old_replica_sets_beyond_the_history_limit_are_deleted()
    {
        await ArrangeKubectlAsync();
        var deployment = TestDeployment("hist", 1);
        deployment.Spec.RevisionHistoryLimit = 1;
        await Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, Namespace);
        await WaitAvailableAsync("hist", 1);

        var scale = await KubectlAsync("scale", "deploy/hist", "--replicas=2");
        var scaled = await KubectlAsync("rollout", "status", "deploy/hist", "--timeout=90s");
        await WaitAvailableAsync("hist", 2);
        var previousRestart = "";
        for (var i = 0; i < 2; i++)
        {
            // kubectl stamps restartedAt to the second and refuses a second restart within the same second:
            // wait for a second later than the stamp kubectl actually wrote (not the one read before it ran).
            await Eventually.TrueAsync(() => Task.FromResult(string.CompareOrdinal(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), previousRestart) > 0), "the next second for kubectl's restartedAt");
            Assert.Equal(0, (await KubectlAsync("rollout", "restart", "deploy/hist")).ExitCode);
            var stamped = (await Client.AppsV1.ReadNamespacedDeploymentAsync("hist", Namespace)).Spec.Template.Metadata.Annotations["kubectl.kubernetes.io/restartedAt"];
            previousRestart = DateTimeOffset.Parse(stamped, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            var rolled = await KubectlAsync("rollout", "status", "deploy/hist", "--timeout=90s");
            Assert.True(rolled.ExitCode == 0, rolled.ToString());
        }

        var available = await KubectlAsync("wait", "--for=condition=Available", "deploy/hist", "--timeout=60s");
        Assert.True(available.ExitCode == 0, available.ToString());
        Assert.True(scale.ExitCode == 0, scale.StandardError);
        Assert.True(scaled.ExitCode == 0, scaled.ToString());
        await Eventually.TrueAsync(
            async () => (await Client.AppsV1.ListNamespacedReplicaSetAsync(Namespace)).Items.Select(rs => rs.Metadata.Annotations["deployment.kubernetes.io/revision"]).Order().SequenceEqual(["2", "3"]),
            "revision 1 is deleted, the current (3) and one old (2) are kept");
        var rs = await KubectlAsync("get", "rs");
        Assert.Matches(@"(?m)^hist-\w+\s+2\s+2\s+2\s", rs.StandardOutput);
        Assert.Matches(@"(?m)^hist-\w+\s+0\s+0\s+0\s", rs.StandardOutput);
    }

    /// <summary>The pod-template-hash of the Deployment's live (not terminating) pods, "" while they differ.</summary>
    private async Task<string> HashOfPodsAsync()
    {
        var hashes = (await PodsAsync("web")).Where(p => p.Metadata.DeletionTimestamp is null).Select(p => p.Metadata.Labels[LocalKubelet.TemplateHashLabel]).Distinct().ToList();
        return hashes.Count == 1 ? hashes[0] : "";
    }

    private async Task ArrangeKubectlAsync()
    {
        _kubeconfig = Path.Combine(StateDirectory, "kubeconfig");
        await Server.WriteKubeconfigAsync(_kubeconfig);
    }

    private Task<ToolResult> KubectlAsync(params string[] args) =>
        ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", _kubeconfig, .. args], timeout: TimeSpan.FromSeconds(120));
}
