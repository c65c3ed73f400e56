using System.Diagnostics;
using System.Text;
using Greenhouse.Testing;
using k8s;
using k8s.Models;

namespace Sandbox.Kubelet.Tests;

// Loopback pod addresses beyond 127.0.0.1, symlinks and file modes: the local kubelet is for Linux.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LocalKubeletTests : KubeletTest
{
    [Fact]
    public async Task Deployment_replicas_run_as_processes_on_distinct_loopback_addresses_and_the_deployment_becomes_available()
    {
        var deployment = await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("web", 3), Namespace);

        await WaitAvailableAsync("web", 3);
        var pods = await PodsAsync("web");
        Assert.Equal(3, pods.Count);
        Assert.Equal(3, pods.Select(p => p.Status.PodIP).Distinct().Count());
        foreach (var pod in pods)
        {
            // This test's range: the first address and the next ones.
            var prefix = FirstPodAddress.ToString()[..^1];
            Assert.Contains(pod.Status.PodIP, new[] { prefix + "2", prefix + "3", prefix + "4" });
            Assert.Equal("Running", pod.Status.Phase);
            Assert.Contains(pod.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
            var owner = Assert.Single(pod.Metadata.OwnerReferences);
            Assert.Equal("ReplicaSet", owner.Kind);
            Assert.True(owner.Controller);
            var replicaSet = await Client.AppsV1.ReadNamespacedReplicaSetAsync(owner.Name, Namespace);
            Assert.Equal(deployment.Uid(), Assert.Single(replicaSet.Metadata.OwnerReferences).Uid);
            Assert.Equal(pod.Metadata.Labels[LocalKubelet.TemplateHashLabel], replicaSet.Metadata.Labels[LocalKubelet.TemplateHashLabel]);
            // The process answering on the pod's own address is the one the kubelet started for that pod.
            var local = Assert.Single(Kubelet.Pods, p => p.Name == pod.Name());
            Assert.Equal(local.Containers[0].ProcessId.ToString(), await AskAsync(pod.Status.PodIP, "/pid"));
        }

        var current = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", Namespace);
        var status = current.Status;
        Assert.Equal(current.Metadata.Generation, status.ObservedGeneration);
        Assert.Equal("1", current.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal(3, status.ReadyReplicas);
        Assert.Contains(status.Conditions, c => c.Type == "Progressing" && c.Reason == "NewReplicaSetAvailable");
    }

    [Fact]
    public async Task An_address_whose_container_port_is_taken_by_another_process_is_skipped()
    {
        using var squatter = new System.Net.Sockets.TcpListener(FirstPodAddress, Port);
        squatter.Start();

        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("skip", 1), Namespace);

        await WaitAvailableAsync("skip", 1);
        var pod = Assert.Single(Kubelet.Pods);
        Assert.Equal(FirstPodAddress.ToString()[..^1] + "3", pod.PodIp);
        Assert.Equal(pod.Containers[0].ProcessId.ToString(), await AskAsync(pod.PodIp, "/pid"));
    }

    [Fact]
    public async Task An_idle_kubelet_writes_nothing_once_everything_is_reported()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("idle", 1), Namespace);
        await WaitAvailableAsync("idle", 1);
        var syncs = Kubelet.Syncs;
        await Eventually.TrueAsync(() => Kubelet.Syncs >= syncs + 2, "two more syncs");
        var writes = Server.Requests.Snapshot().Count(r => r.IsWrite);

        syncs = Kubelet.Syncs;
        await Eventually.TrueAsync(() => Kubelet.Syncs >= syncs + 5, "five more syncs");

        var later = Server.Requests.Snapshot().Where(r => r.IsWrite).Skip(writes).ToList();
        Assert.True(later.Count == 0, "writes while idle: " + string.Join(", ", later));
    }

    [Fact]
    public async Task Secret_change_swaps_the_data_link_and_the_running_process_reads_the_new_content()
    {
        await Client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret { Metadata = new V1ObjectMeta { Name = "creds", NamespaceProperty = Namespace }, StringData = new Dictionary<string, string> { ["token"] = "one", ["unused"] = "x" } },
            Namespace);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(
            TestDeployment("secrets", 1, spec =>
            {
                spec.Volumes = [new V1Volume { Name = "creds", Secret = new V1SecretVolumeSource { SecretName = "creds", DefaultMode = 0x120, Items = [new V1KeyToPath { Key = "token", Path = "token" }] } }];
                spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "creds", MountPath = "/etc/creds", ReadOnlyProperty = true }];
                spec.Containers[0].Env = [new V1EnvVar { Name = "TOKEN_FILE", Value = "/etc/creds/token" }];
            }),
            Namespace);
        await WaitAvailableAsync("secrets", 1);
        var pod = Assert.Single(Kubelet.Pods);
        var pid = pod.Containers[0].ProcessId;
        var volume = Path.Combine(pod.Directory, "volumes", "creds");
        Assert.Equal("one", await AskAsync(pod.PodIp, "/read/TOKEN_FILE"));
        Assert.Equal(Path.Combine(volume, "token"), await AskAsync(pod.PodIp, "/env/TOKEN_FILE"));
        Assert.Equal(Path.Combine("..data", "token"), new FileInfo(Path.Combine(volume, "token")).LinkTarget);
        Assert.False(File.Exists(Path.Combine(volume, "unused")));
        var firstTarget = new FileInfo(Path.Combine(volume, "..data")).LinkTarget;
        Assert.StartsWith("..20", firstTarget, StringComparison.Ordinal);
        Assert.Equal((UnixFileMode)0x120, File.GetUnixFileMode(Path.Combine(volume, firstTarget!, "token")));

        await Client.CoreV1.PatchNamespacedSecretAsync(
            new V1Patch("""{"stringData":{"token":"two"}}""", V1Patch.PatchType.MergePatch), "creds", Namespace);

        await Eventually.TrueAsync(async () => await AskAsync(pod.PodIp, "/read/TOKEN_FILE") == "two", "the process reads the new secret value");
        // The process sees the new value as soon as ..data is swapped, before the writer removes the old
        // folder: the sync that swapped it must end before its clean-up can be checked.
        var syncs = Kubelet.Syncs;
        await Eventually.TrueAsync(() => Kubelet.Syncs > syncs, "the sync that swapped the volume finishes");
        var secondTarget = new FileInfo(Path.Combine(volume, "..data")).LinkTarget;
        Assert.NotEqual(firstTarget, secondTarget);
        Assert.False(Directory.Exists(Path.Combine(volume, firstTarget!)), "the previous timestamped folder is removed");
        Assert.Equal(pid, Assert.Single(Kubelet.Pods).Containers[0].ProcessId);
    }

    [Fact]
    public async Task A_pod_gets_a_token_of_its_service_account_bound_to_it_at_the_in_cluster_path_unless_automount_is_off()
    {
        await Client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "app", NamespaceProperty = Namespace } }, Namespace);
        await Client.CoreV1.CreateNamespacedServiceAccountAsync(
            new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "quiet", NamespaceProperty = Namespace }, AutomountServiceAccountToken = false },
            Namespace);
        const string TokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";
        foreach (var (name, account) in new[] { ("with-token", "app"), ("without-token", "quiet") })
        {
            await Client.AppsV1.CreateNamespacedDeploymentAsync(
                TestDeployment(name, 1, spec =>
                {
                    spec.ServiceAccountName = account;
                    spec.Containers[0].Env =
                    [
                        new V1EnvVar { Name = "TOKEN_FILE", Value = TokenPath },
                        new V1EnvVar { Name = "NAMESPACE_FILE", Value = "/var/run/secrets/kubernetes.io/serviceaccount/namespace" },
                    ];
                }),
                Namespace);
        }

        await WaitAvailableAsync("with-token", 1);
        await WaitAvailableAsync("without-token", 1);
        var pod = Kubelet.Pods.Single(p => p.DeploymentName == "with-token");
        var folder = Path.Combine(pod.Directory, "volumes", "kube-api-access");
        Assert.Equal(Path.Combine(folder, "token"), await AskAsync(pod.PodIp, "/env/TOKEN_FILE"));
        Assert.Equal(Namespace, await AskAsync(pod.PodIp, "/read/NAMESPACE_FILE"));
        var token = await AskAsync(pod.PodIp, "/read/TOKEN_FILE");
        var claims = System.Text.Json.JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(token!.Split('.')[1])).RootElement;
        Assert.Equal($"system:serviceaccount:{Namespace}:app", claims.GetProperty("sub").GetString());
        Assert.Equal(pod.Name, claims.GetProperty("kubernetes.io").GetProperty("pod").GetProperty("name").GetString());
        Assert.Equal(pod.Uid, claims.GetProperty("kubernetes.io").GetProperty("pod").GetProperty("uid").GetString());
        Assert.False(File.Exists(Path.Combine(folder, "ca.crt")), "no CA configured for this kubelet, so no ca.crt");

        var quiet = Kubelet.Pods.Single(p => p.DeploymentName == "without-token");
        Assert.Equal(TokenPath, await AskAsync(quiet.PodIp, "/env/TOKEN_FILE"));
        Assert.False(Directory.Exists(Path.Combine(quiet.Directory, "volumes", "kube-api-access")));
    }

    [Fact]
    public async Task Environment_comes_from_envFrom_and_key_references_with_mount_paths_and_all_interfaces_translated()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings", NamespaceProperty = Namespace }, Data = new Dictionary<string, string> { ["Storage__Dir"] = "/var/lib/app", ["Bind"] = "0.0.0.0", ["Mode"] = "fast" } },
            Namespace);
        await Client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret { Metadata = new V1ObjectMeta { Name = "api", NamespaceProperty = Namespace }, StringData = new Dictionary<string, string> { ["key"] = "s3cr3t" } },
            Namespace);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(
            TestDeployment("env", 1, spec =>
            {
                spec.Volumes = [new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() }];
                var container = spec.Containers[0];
                container.VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/var/lib/app" }];
                container.EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = "settings" } }];
                container.Env =
                [
                    new V1EnvVar { Name = "API_KEY", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "api", Key = "key" } } },
                    new V1EnvVar { Name = "MODE", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "settings", Key = "Mode" } } },
                    new V1EnvVar { Name = "MISSING", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "api", Key = "absent", Optional = true } } },
                    new V1EnvVar { Name = "POD_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } },
                    new V1EnvVar { Name = "CACHE", Value = "--cache=/var/lib/app/cache" },
                ];
            }),
            Namespace);
        await WaitAvailableAsync("env", 1);
        var pod = Assert.Single(Kubelet.Pods);
        var data = Path.Combine(pod.Directory, "volumes", "data");

        Assert.Equal(data, await AskAsync(pod.PodIp, "/env/Storage__Dir"));
        Assert.Equal("--cache=" + Path.Combine(data, "cache"), await AskAsync(pod.PodIp, "/env/CACHE"));
        Assert.Equal(pod.PodIp, await AskAsync(pod.PodIp, "/env/Bind"));
        Assert.Equal(pod.PodIp, await AskAsync(pod.PodIp, "/env/POD_IP"));
        Assert.Equal("s3cr3t", await AskAsync(pod.PodIp, "/env/API_KEY"));
        Assert.Equal("fast", await AskAsync(pod.PodIp, "/env/MODE"));
        Assert.Equal("unset", await AskAsync(pod.PodIp, "/env/MISSING"));
        Assert.Equal($"--listen=http://{pod.PodIp}:{Port}/", await AskAsync(pod.PodIp, "/args"));
    }

    [Fact]
    public async Task Scaling_down_stops_processes_and_scaling_up_starts_new_ones()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("scale", 3), Namespace);
        await WaitAvailableAsync("scale", 3);
        var before = Kubelet.Pods.ToDictionary(p => p.Name, p => p.Containers[0].ProcessId!.Value);

        await Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"replicas":1}}""", V1Patch.PatchType.MergePatch), "scale", Namespace);
        await WaitAvailableAsync("scale", 1);
        await Eventually.TrueAsync(async () => (await PodsAsync("scale")).Count == 1, "two pods are deleted");
        var kept = Assert.Single(Kubelet.Pods);
        Assert.All(before.Where(p => p.Key != kept.Name), p => Assert.False(ProcessAlive(p.Value), "a scaled-away process is stopped"));

        await Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.MergePatch), "scale", Namespace);
        await WaitAvailableAsync("scale", 2);
        Assert.Equal(2, Kubelet.Pods.Select(p => p.PodIp).Distinct().Count());
        Assert.Contains(Kubelet.Pods, p => p.Name == kept.Name);
    }

    [Fact]
    public async Task Template_change_replaces_every_pod_with_one_running_the_new_template()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("roll", 2), Namespace);
        await WaitAvailableAsync("roll", 2);
        var oldPods = Kubelet.Pods.ToList();

        var patch = """{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"VERSION","value":"2"}]}]}}}}""";
        await Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch, V1Patch.PatchType.StrategicMergePatch), "roll", Namespace);

        await Eventually.TrueAsync(
            async () => (await PodsAsync("roll")).Count == 2 && Kubelet.Pods.Count == 2 && Kubelet.Pods.All(p => oldPods.All(o => o.Name != p.Name) && p.Ready),
            "both pods are replaced by ready ones",
            TimeSpan.FromSeconds(40));
        await WaitAvailableAsync("roll", 2);
        foreach (var pod in Kubelet.Pods)
        {
            Assert.Equal("2", await AskAsync(pod.PodIp, "/env/VERSION"));
        }

        Assert.All(oldPods, p => Assert.False(ProcessAlive(p.Containers[0].ProcessId!.Value)));
        var hashes = (await PodsAsync("roll")).Select(p => p.Metadata.Labels[LocalKubelet.TemplateHashLabel]).Distinct();
        Assert.Single(hashes);
    }

    [Fact]
    public async Task A_killed_process_is_restarted_in_the_same_pod_and_counted()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("crash", 1), Namespace);
        await WaitAvailableAsync("crash", 1);
        var pod = Assert.Single(Kubelet.Pods);
        var pid = pod.Containers[0].ProcessId!.Value;

        using (var process = Process.GetProcessById(pid))
        {
            process.Kill();
        }

        await Eventually.TrueAsync(
            async () => (await PodsAsync("crash")).Single().Status.ContainerStatuses.Single() is { RestartCount: 1, Ready: true },
            "the pod reports one restart and is ready again");
        var apiPod = (await PodsAsync("crash")).Single();
        Assert.Equal(pod.Name, apiPod.Name());
        Assert.Equal(pod.PodIp, apiPod.Status.PodIP);
        Assert.Equal(137, apiPod.Status.ContainerStatuses[0].LastState.Terminated.ExitCode);
        var restarted = Assert.Single(Kubelet.Pods).Containers[0];
        Assert.NotEqual(pid, restarted.ProcessId);
        Assert.Equal(restarted.ProcessId.ToString(), await AskAsync(pod.PodIp, "/pid"));
    }

    [Fact]
    public async Task A_process_that_exits_is_restarted_and_its_exit_code_reported()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("exits", 1), Namespace);
        await WaitAvailableAsync("exits", 1);
        var pod = Assert.Single(Kubelet.Pods);

        await AskAsync(pod.PodIp, "/exit/3");

        await Eventually.TrueAsync(
            async () => (await PodsAsync("exits")).Single().Status.ContainerStatuses.Single() is { RestartCount: 1, Ready: true, LastState.Terminated.ExitCode: 3 },
            "the pod reports the exit code, one restart and is ready again");
        Assert.Equal("Error", (await PodsAsync("exits")).Single().Status.ContainerStatuses[0].LastState.Terminated.Reason);
    }

    [Fact]
    public async Task A_container_failing_its_liveness_probe_is_killed_and_restarted()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(
            TestDeployment("hung", 1, spec => spec.Containers[0].LivenessProbe = new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = "/not-served", Port = Port },
                PeriodSeconds = 1,
                FailureThreshold = 2,
            }),
            Namespace);

        await Eventually.TrueAsync(
            async () => (await PodsAsync("hung")).SingleOrDefault()?.Status?.ContainerStatuses?.Single() is { RestartCount: >= 1, LastState.Terminated.ExitCode: 137 },
            "the pod reports a restart after the process was killed for failing liveness",
            TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Deleting_the_deployment_stops_its_processes_and_deletes_its_pods()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("gone", 2), Namespace);
        await WaitAvailableAsync("gone", 2);
        var pids = Kubelet.Pods.Select(p => p.Containers[0].ProcessId!.Value).ToList();

        await Client.AppsV1.DeleteNamespacedDeploymentAsync("gone", Namespace);

        await Eventually.TrueAsync(async () => (await PodsAsync("gone")).Count == 0 && Kubelet.Pods.Count == 0, "pods are deleted");
        Assert.All(pids, pid => Assert.False(ProcessAlive(pid)));
    }

    [Fact]
    public async Task Claim_folder_survives_the_pod_and_is_mounted_into_its_replacement()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(
            TestDeployment("state", 1, spec =>
            {
                spec.Volumes = [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "state-data" } }];
                spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }];
                spec.Containers[0].Env = [new V1EnvVar { Name = "STATE", Value = "/data/state.txt" }];
            }),
            Namespace);
        await WaitAvailableAsync("state", 1);
        var first = Assert.Single(Kubelet.Pods);
        Assert.Equal("written", await AskAsync(first.PodIp, "/write/STATE?text=kept"));

        await Client.CoreV1.DeleteNamespacedPodAsync(first.Name, Namespace);

        await Eventually.TrueAsync(() => Kubelet.Pods is [{ Ready: true } p] && p.Name != first.Name, "a replacement pod is ready");
        var second = Assert.Single(Kubelet.Pods);
        Assert.Equal("kept", await AskAsync(second.PodIp, "/read/STATE"));
        Assert.Equal(Path.Combine(Kubelet.ClaimsDirectory, Namespace, "state-data", "state.txt"), await AskAsync(second.PodIp, "/env/STATE"));
    }

    [Fact]
    public async Task A_surge_pod_cannot_use_a_claim_a_running_pod_holds_and_a_recreate_rollout_completes()
    {
        static void WithClaim(V1PodSpec spec)
        {
            spec.Volumes = [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "rwo-data" } }];
            spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }];
        }

        var deployment = TestDeployment("rwo", 1, WithClaim);
        deployment.Spec.Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = 1, MaxUnavailable = 0 } };
        await Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, Namespace);
        await WaitAvailableAsync("rwo", 1);
        var first = Assert.Single(Kubelet.Pods);

        var surge = new V1Patch("""{"spec":{"template":{"metadata":{"annotations":{"rev":"2"}}}}}""", V1Patch.PatchType.MergePatch);
        await Client.AppsV1.PatchNamespacedDeploymentAsync(surge, "rwo", Namespace);

        await Eventually.TrueAsync(
            async () => (await PodsAsync("rwo")).Any(p => p.Status?.ContainerStatuses?.Single().State.Waiting?.Message?.Contains("Multi-Attach error for volume \"data\"", StringComparison.Ordinal) == true),
            "the surge pod waits with a Multi-Attach error");
        Assert.Contains(Kubelet.Pods, p => p.Name == first.Name && p.Ready);

        var recreate = new V1Patch("""{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null},"template":{"metadata":{"annotations":{"rev":"3"}}}}}""", V1Patch.PatchType.MergePatch);
        await Client.AppsV1.PatchNamespacedDeploymentAsync(recreate, "rwo", Namespace);

        await Eventually.TrueAsync(() => Kubelet.Pods is [{ Ready: true } p] && p.Name != first.Name, "the Recreate rollout replaced the pod", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_pod_whose_image_has_no_command_waits_with_the_reason_and_the_deployment_is_unavailable()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("unknown", 1, spec => spec.Containers[0].Image = "example.com/other:1"), Namespace);

        await Eventually.TrueAsync(
            async () => (await PodsAsync("unknown")).SingleOrDefault()?.Status?.ContainerStatuses?.Single().State.Waiting?.Reason == "ErrImagePull",
            "the container waits with ErrImagePull");
        await Eventually.TrueAsync(
            async () => (await Client.AppsV1.ReadNamespacedDeploymentAsync("unknown", Namespace)).Status?.Conditions?.Any(c => c.Type == "Available" && c.Status == "False") == true,
            "the deployment reports Available=False");
        var waiting = (await PodsAsync("unknown")).Single().Status.ContainerStatuses.Single().State.Waiting;
        Assert.Contains("example.com/other:1", waiting.Message, StringComparison.Ordinal);
        Assert.Equal("Pending", (await PodsAsync("unknown")).Single().Status.Phase);
    }

    [Fact]
    public async Task Each_process_writes_its_output_to_the_pod_log_file()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(TestDeployment("logs", 1), Namespace);
        await WaitAvailableAsync("logs", 1);
        var container = Assert.Single(Kubelet.Pods).Containers[0];

        await Eventually.TrueAsync(
            () => File.Exists(container.LogPath) && Encoding.UTF8.GetString(ReadShared(container.LogPath)).Contains($"test pod {container.ProcessId} listening", StringComparison.Ordinal),
            "the start line is in the log");
    }

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
