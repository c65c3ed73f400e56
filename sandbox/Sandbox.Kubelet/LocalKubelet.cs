using System.ComponentModel;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.KubeApi;

namespace Sandbox.Kubelet;

/// <summary>
/// The sandbox's node: watches Deployments in every namespace and keeps <c>spec.replicas</c> pods of
/// each running as local processes, each on its own loopback address, doing the work of the
/// deployment controller, the ReplicaSet controller and the kubelet at once. Level-triggered: every
/// watch event (Deployments, its Pods, Secrets, ConfigMaps) and every <see cref="LocalKubeletOptions.SyncPeriod"/>
/// runs one sync that lists the cluster and converges. Each template gets a ReplicaSet with a revision
/// (<see cref="ReplicaSetHistory"/>), which owns its pods; pods carry the <c>pod-template-hash</c> label.
/// </summary>
public sealed partial class LocalKubelet : IAsyncDisposable, IContainerLogSource
{
    public const string TemplateHashLabel = "pod-template-hash";

    private readonly IKubernetes client;
    private readonly LocalKubeletOptions options;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly PodAddressPool addresses;
    private readonly Dictionary<string, LocalPod> pods = new(StringComparer.Ordinal);
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource stopping = new();
    private readonly HttpClient probeClient = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30) });
    private readonly List<Task> loops = [];
    private volatile IReadOnlyList<LocalPodInfo> snapshot = [];
    private long syncs;

    private LocalKubelet(IKubernetes client, LocalKubeletOptions options, ILogger logger)
    {
        this.client = client;
        this.options = options;
        this.logger = logger;
        time = options.TimeProvider;
        addresses = new PodAddressPool(options.FirstPodAddress);
    }

    /// <summary>The pods running on this node as of the last sync.</summary>
    public IReadOnlyList<LocalPodInfo> Pods => snapshot;

    /// <summary>Completed syncs (tests wait for "one more sync" instead of sleeping).</summary>
    public long Syncs => Interlocked.Read(ref syncs);

    /// <summary>Folder of persistent volume claims: one folder per namespace and claim, kept across pod restarts.</summary>
    public string ClaimsDirectory => Path.Combine(options.StateDirectory, "claims");

    public static LocalKubelet Start(IKubernetes client, LocalKubeletOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.StateDirectory);
        var kubelet = new LocalKubelet(client, options, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<LocalKubelet>());
        kubelet.loops.Add(kubelet.SyncLoopAsync(kubelet.stopping.Token));
        kubelet.loops.Add(kubelet.WatchAsync("deployments", ct => client.AppsV1.WatchListDeploymentForAllNamespacesAsync(timeoutSeconds: 300, cancellationToken: ct)));
        kubelet.loops.Add(kubelet.WatchAsync("pods", ct => client.CoreV1.WatchListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=" + options.NodeName, timeoutSeconds: 300, cancellationToken: ct)));
        if (!options.StatusOnly)
        {
            kubelet.loops.Add(kubelet.WatchAsync("secrets", ct => client.CoreV1.WatchListSecretForAllNamespacesAsync(timeoutSeconds: 300, cancellationToken: ct)));
            kubelet.loops.Add(kubelet.WatchAsync("configmaps", ct => client.CoreV1.WatchListConfigMapForAllNamespacesAsync(timeoutSeconds: 300, cancellationToken: ct)));
        }

        return kubelet;
    }

    /// <summary>
    /// The log files of a container of a pod this node runs, as of the last sync: what the emulator's pods/log reads
    /// (<c>server.ContainerLogs = kubelet</c>). Thread-safe: it reads the published snapshot only.
    /// </summary>
    public ContainerLogFile? Find(string podNamespace, string pod, string podUid, string container, bool previous)
    {
        var info = snapshot.FirstOrDefault(p => p.Uid == podUid && p.Namespace == podNamespace && p.Name == pod)?.Containers.FirstOrDefault(c => c.Name == container);
        if (info is null)
        {
            return null;
        }

        if (previous)
        {
            return info.PreviousLogPath is { } last ? new ContainerLogFile(last, Running: false) : null;
        }

        return File.Exists(info.LogPath) ? new ContainerLogFile(info.LogPath, info.ProcessId is not null) : null;
    }

    /// <summary>Stops syncing and kills every process this kubelet started. Pods stay in the API server.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected on shutdown.
        }

        foreach (var pod in pods.Values)
        {
            foreach (var container in pod.Containers)
            {
                container.Kill();
            }

            addresses.Release(pod.Address);
        }

        pods.Clear();
        snapshot = [];
        probeClient.Dispose();
        stopping.Dispose();
    }

    private void Wake() => wake.Writer.TryWrite(true);

    private async Task WatchAsync<T>(string resource, Func<CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch)
    {
        var token = stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await foreach (var _ in watch(token).ConfigureAwait(false))
                {
                    Wake();
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or HttpOperationException or IOException or KubernetesException or OperationCanceledException)
            {
                LogWatchFailed(resource, e.Message);
                await DelayAsync(TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
            }
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, time, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task SyncLoopAsync(CancellationToken token)
    {
        await Task.Yield();
        while (!token.IsCancellationRequested)
        {
            try
            {
                await SyncAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // Level-triggered: whatever failed is retried by the next sync.
                LogSyncFailed(e.GetType().Name, e.Message);
            }

            Interlocked.Increment(ref syncs);
            using var period = CancellationTokenSource.CreateLinkedTokenSource(token);
            var timer = Task.Delay(options.SyncPeriod, time, period.Token);
            var woken = wake.Reader.WaitToReadAsync(token).AsTask();
            await Task.WhenAny(timer, woken).ConfigureAwait(false);
            await period.CancelAsync().ConfigureAwait(false);
            while (wake.Reader.TryRead(out _))
            {
                // Coalesce: one sync answers every event that arrived meanwhile.
            }
        }

        await StopAllAsync().ConfigureAwait(false);
    }

    private async Task StopAllAsync()
    {
        await Task.WhenAll(pods.Values.Select(p => StopPodAsync(p, TimeSpan.FromSeconds(1)))).ConfigureAwait(false);
    }

    private async Task SyncAsync(CancellationToken token)
    {
        var deployments = (await client.AppsV1.ListDeploymentForAllNamespacesAsync(cancellationToken: token).ConfigureAwait(false)).Items;
        var apiPods = (await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=" + options.NodeName, cancellationToken: token).ConfigureAwait(false)).Items;
        var cluster = ClusterSnapshot.Empty;
        if (!options.StatusOnly)
        {
            var secrets = (await client.CoreV1.ListSecretForAllNamespacesAsync(cancellationToken: token).ConfigureAwait(false)).Items;
            var configMaps = (await client.CoreV1.ListConfigMapForAllNamespacesAsync(cancellationToken: token).ConfigureAwait(false)).Items;
            cluster = new ClusterSnapshot(secrets, configMaps);
        }

        var replicaSets = (await client.AppsV1.ListReplicaSetForAllNamespacesAsync(cancellationToken: token).ConfigureAwait(false)).Items;
        await RemoveDeletedPodsAsync(apiPods, deployments, token).ConfigureAwait(false);
        var currentHashes = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < deployments.Count; i++)
        {
            (deployments[i], var hash) = await RolloutAsync(deployments[i], ReplicaSetHistory.OwnedBy(deployments[i], replicaSets), token).ConfigureAwait(false);
            currentHashes[deployments[i].Uid()] = hash;
        }

        var now = time.GetUtcNow();
        foreach (var pod in pods.Values)
        {
            if (!options.StatusOnly && await ProjectServiceAccountAsync(pod, token).ConfigureAwait(false))
            {
                RunContainers(pod, cluster, now);
            }

            await WritePodStatusAsync(pod, now, token).ConfigureAwait(false);
        }

        foreach (var deployment in deployments)
        {
            await WriteDeploymentStatusAsync(deployment, currentHashes[deployment.Uid()], now, token).ConfigureAwait(false);
        }

        foreach (var rs in replicaSets.Where(rs => rs.Metadata.DeletionTimestamp is null && currentHashes.ContainsKey(rs.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true)?.Uid ?? "")))
        {
            await WriteReplicaSetStatusAsync(rs, token).ConfigureAwait(false);
        }

        snapshot = pods.Values.Select(Describe).ToList();
    }

    /// <summary>Pods deleted in the API (or being deleted), pods of vanished Deployments, and pods of this node nobody here runs.</summary>
    private async Task RemoveDeletedPodsAsync(IList<V1Pod> apiPods, IList<V1Deployment> deployments, CancellationToken token)
    {
        var inApi = apiPods.ToDictionary(p => p.Uid(), StringComparer.Ordinal);
        var deploymentUids = deployments.Select(d => d.Uid()).ToHashSet(StringComparer.Ordinal);
        var gone = pods.Values
            .Where(p => !inApi.TryGetValue(p.Key, out var apiPod) || apiPod.Metadata.DeletionTimestamp is not null || !deploymentUids.Contains(p.DeploymentUid))
            .ToList();
        await Task.WhenAll(gone.Select(p => DeletePodAsync(p, token))).ConfigureAwait(false);
        foreach (var stray in apiPods.Where(p => !pods.ContainsKey(p.Uid()) && gone.All(g => g.Key != p.Uid())))
        {
            // A pod of this node from an earlier kubelet: its processes are gone, so it goes too.
            await DeleteFromApiAsync(stray.Namespace(), stray.Name(), token).ConfigureAwait(false);
        }
    }

    private async Task DeletePodAsync(LocalPod pod, CancellationToken token)
    {
        pods.Remove(pod.Key);
        var grace = TimeSpan.FromSeconds(pod.Pod.Spec.TerminationGracePeriodSeconds ?? 30);
        await StopPodAsync(pod, grace < options.MaxTerminationGracePeriod ? grace : options.MaxTerminationGracePeriod).ConfigureAwait(false);
        await DeleteFromApiAsync(pod.Pod.Namespace(), pod.Pod.Name(), token).ConfigureAwait(false);
        LogPodDeleted(pod.Pod.Metadata.NamespaceProperty, pod.Pod.Metadata.Name);
    }

    private async Task StopPodAsync(LocalPod pod, TimeSpan grace)
    {
        await Task.WhenAll(pod.Containers.Select(c => c.StopAsync(grace))).ConfigureAwait(false);
        addresses.Release(pod.Address);
        try
        {
            // The pod folder holds volumes and logs; claims live elsewhere and stay.
            Directory.Delete(Path.Combine(pod.Directory, "volumes"), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Never materialised (status-only mode or a pod that could not start).
        }
    }

    private async Task DeleteFromApiAsync(string ns, string name, CancellationToken token)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(name, ns, gracePeriodSeconds: 0, cancellationToken: token).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// The deployment controller's part: the ReplicaSet of the current template (created, or reused under a new revision),
    /// the Deployment's revision annotation, pods created and deleted by the rollout plan, ReplicaSets' replicas and the
    /// history limit. Returns the Deployment as last written and the current pod-template-hash.
    /// </summary>
    private async Task<(V1Deployment Deployment, string Hash)> RolloutAsync(V1Deployment deployment, List<V1ReplicaSet> owned, CancellationToken token)
    {
        var deleting = deployment.Metadata.DeletionTimestamp is not null;
        var desired = deployment.Spec.Replicas ?? 1;
        var maxReplicas = desired + RolloutPlan.Budget(deployment.Spec, desired).Surge;
        var current = ReplicaSetHistory.Matching(deployment, owned);
        var latest = owned.Count == 0 ? 0 : owned.Max(ReplicaSetHistory.Revision);
        if (current is null && deployment.Spec.Paused == true && owned.Count > 0)
        {
            // A paused Deployment scales its newest ReplicaSet and starts no rollout of the changed template.
            current = owned.MaxBy(ReplicaSetHistory.Revision);
        }
        else if (current is null && !deleting)
        {
            var wanted = ReplicaSetHistory.New(deployment, TemplateHash(deployment.Spec.Template), latest + 1, maxReplicas);
            try
            {
                current = await client.AppsV1.CreateNamespacedReplicaSetAsync(wanted, deployment.Namespace(), cancellationToken: token).ConfigureAwait(false);
                owned.Add(current);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // The name is taken by a ReplicaSet whose template no longer compares equal (edited by hand): use it
                // if this Deployment controls it, as the controller adopts, rather than failing every sync.
                var existing = await client.AppsV1.ReadNamespacedReplicaSetAsync(wanted.Name(), deployment.Namespace(), cancellationToken: token).ConfigureAwait(false);
                current = owned.FirstOrDefault(rs => rs.Uid() == existing.Uid())
                    ?? throw new InvalidOperationException($"ReplicaSet {deployment.Namespace()}/{wanted.Name()} exists and is not controlled by Deployment {deployment.Name()}");
            }
        }
        else if (current is not null && !deleting && ReplicaSetHistory.Revision(current) < latest)
        {
            // The template came back (rollout undo): its ReplicaSet becomes the newest revision again.
            var old = ReplicaSetHistory.Revision(current).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var history = current.Metadata.Annotations?.TryGetValue(ReplicaSetHistory.RevisionHistoryAnnotation, out var h) == true && h.Length > 0 ? h + "," + old : old;
            current = await PatchReplicaSetAsync(current, new { metadata = new { annotations = ReplicaSetHistory.Annotations(deployment, latest + 1, maxReplicas, history) } }, token).ConfigureAwait(false);
        }

        var hash = current is null ? TemplateHash(deployment.Spec.Template) : ReplicaSetHistory.Hash(current);
        var revision = current is null ? null : ReplicaSetHistory.Revision(current).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (revision is not null && !deleting && (deployment.Metadata.Annotations?.TryGetValue(ReplicaSetHistory.RevisionAnnotation, out var known) == true ? known : null) != revision)
        {
            var patch = new V1Patch(KubernetesJson.Serialize(new { metadata = new { annotations = new Dictionary<string, string> { [ReplicaSetHistory.RevisionAnnotation] = revision } } }), V1Patch.PatchType.MergePatch);
            deployment = await client.AppsV1.PatchNamespacedDeploymentAsync(patch, deployment.Name(), deployment.Namespace(), cancellationToken: token).ConfigureAwait(false);
        }

        var local = pods.Values.Where(p => p.DeploymentUid == deployment.Uid()).ToList();
        var decision = RolloutPlan.Decide(
            deployment.Spec,
            local.Select(p => new RolloutPlan.PodState(p.Key, p.TemplateHash == hash, p.Ready(options.StatusOnly), p.CreatedAt)).ToList(),
            deleting);
        await Task.WhenAll(local.Where(p => decision.Delete.Contains(p.Key)).Select(p => DeletePodAsync(p, token))).ConfigureAwait(false);
        for (var i = 0; i < decision.Create && current is not null; i++)
        {
            await CreatePodAsync(deployment, current, hash, token).ConfigureAwait(false);
        }

        if (deleting)
        {
            return (deployment, hash);
        }

        var remaining = pods.Values.Where(p => p.DeploymentUid == deployment.Uid()).ToList();
        foreach (var rs in owned)
        {
            var replicas = rs.Uid() == current?.Uid() ? desired : remaining.Count(p => p.TemplateHash == ReplicaSetHistory.Hash(rs));
            if (rs.Spec.Replicas != replicas)
            {
                var patched = await PatchReplicaSetAsync(rs, new { spec = new { replicas } }, token).ConfigureAwait(false);
                (rs.Metadata, rs.Spec) = (patched.Metadata, patched.Spec); // The status write below needs the new resourceVersion.
            }
        }

        if (current is not null)
        {
            foreach (var expired in ReplicaSetHistory.Expired(deployment, owned, current, rs => remaining.Any(p => p.TemplateHash == ReplicaSetHistory.Hash(rs))).ToList())
            {
                await DeleteReplicaSetAsync(expired, token).ConfigureAwait(false);
            }
        }

        return (deployment, hash);
    }

    private async Task<V1ReplicaSet> PatchReplicaSetAsync(V1ReplicaSet rs, object patch, CancellationToken token) =>
        await client.AppsV1.PatchNamespacedReplicaSetAsync(new V1Patch(KubernetesJson.Serialize(patch), V1Patch.PatchType.MergePatch), rs.Name(), rs.Namespace(), cancellationToken: token).ConfigureAwait(false);

    private async Task DeleteReplicaSetAsync(V1ReplicaSet rs, CancellationToken token)
    {
        try
        {
            await client.AppsV1.DeleteNamespacedReplicaSetAsync(rs.Name(), rs.Namespace(), cancellationToken: token).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone.
        }
    }

    /// <summary>The ReplicaSet's status from the pods this node runs for its template.</summary>
    private async Task WriteReplicaSetStatusAsync(V1ReplicaSet rs, CancellationToken token)
    {
        var hash = ReplicaSetHistory.Hash(rs);
        var mine = pods.Values.Where(p => p.TemplateHash == hash && p.Pod.Metadata.OwnerReferences.Any(o => o.Uid == rs.Uid())).ToList();
        var ready = mine.Count(p => p.Ready(options.StatusOnly));
        int? NullIfZero(int n) => n == 0 ? null : n;
        var status = new V1ReplicaSetStatus
        {
            Replicas = mine.Count,
            FullyLabeledReplicas = NullIfZero(mine.Count),
            ReadyReplicas = NullIfZero(ready),
            AvailableReplicas = NullIfZero(ready),
            ObservedGeneration = rs.Metadata.Generation,
        };
        if (KubernetesJson.Serialize(status) == KubernetesJson.Serialize(rs.Status ?? new V1ReplicaSetStatus()))
        {
            return;
        }

        try
        {
            // A replace, not a merge patch: counters that drop to zero must disappear.
            rs.Status = status;
            await client.AppsV1.ReplaceNamespacedReplicaSetStatusAsync(rs, rs.Name(), rs.Namespace(), cancellationToken: token).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
        {
            // Changed or deleted since the list; the next sync writes it again.
        }
    }

    private async Task CreatePodAsync(V1Deployment deployment, V1ReplicaSet replicaSet, string hash, CancellationToken token)
    {
        // The ReplicaSet's template: after a rollout undo it is the old template, which the Deployment now has again.
        var template = KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(replicaSet.Spec.Template));
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [TemplateHashLabel] = hash,
        };
        var spec = template.Spec;
        spec.NodeName = options.NodeName;
        spec.RestartPolicy ??= "Always";
        var created = await client.CoreV1.CreateNamespacedPodAsync(
            new V1Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new V1ObjectMeta
                {
                    Name = $"{deployment.Name()}-{hash}-{RandomNumberGenerator.GetString("bcdfghjklmnpqrstvwxz2456789", 5)}",
                    NamespaceProperty = deployment.Namespace(),
                    Labels = labels,
                    Annotations = template.Metadata?.Annotations,
                    OwnerReferences =
                    [
                        new V1OwnerReference
                        {
                            ApiVersion = "apps/v1",
                            Kind = "ReplicaSet",
                            Name = replicaSet.Name(),
                            Uid = replicaSet.Uid(),
                            Controller = true,
                            BlockOwnerDeletion = true,
                        },
                    ],
                },
                Spec = spec,
            },
            deployment.Namespace(),
            cancellationToken: token).ConfigureAwait(false);

        var ports = spec.Containers.SelectMany(c => c.Ports ?? []).Where(p => p.Protocol is null or "TCP").Select(p => p.ContainerPort).ToList();
        var address = addresses.Allocate(options.StatusOnly ? null : candidate => PortsFree(candidate, ports));
        var directory = Path.Combine(options.StateDirectory, "pods", $"{created.Namespace()}_{created.Name()}");
        PodVolumes? volumes = null;
        (string, string)? problem = null;
        if (!options.StatusOnly)
        {
            try
            {
                volumes = new PodVolumes(created, directory, ClaimsDirectory, time);
            }
            catch (PodSetupException e)
            {
                problem = (e.Reason, e.Message);
            }
        }

        pods[created.Uid()] = new LocalPod(created, deployment.Uid(), hash, address, directory, volumes)
        {
            DeploymentName = deployment.Name(),
            CreatedAt = time.GetUtcNow(),
            SetupProblem = problem,
            ServiceAccount = volumes is null ? null : new ServiceAccountVolume(created, directory, time),
        };
        LogPodCreated(created.Metadata.NamespaceProperty, created.Metadata.Name, address);
    }

    /// <summary>Writes or renews the pod's ServiceAccount token; false when it failed and no container runs yet (they wait for it).</summary>
    private async Task<bool> ProjectServiceAccountAsync(LocalPod pod, CancellationToken token)
    {
        if (pod.ServiceAccount is null)
        {
            return true;
        }

        try
        {
            await pod.ServiceAccount.SyncAsync(client, options.CertificateAuthorityPem, token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
        {
            pod.SetupProblem = ("FailedMount", $"cannot mint the ServiceAccount token: {e.Message}");
            return pod.Containers.Any(c => c.Running);
        }
    }

    private void RunContainers(LocalPod pod, ClusterSnapshot cluster, DateTimeOffset now)
    {
        if (pod.Volumes is null)
        {
            return;
        }

        if (pod.Containers.All(c => !c.Running) && ClaimInUse(pod) is { } multiAttach)
        {
            // As on a cluster where the pod landed on another node: a ReadWriteOnce volume attached to a node
            // with a running pod cannot attach to a second one, and the pod waits in ContainerCreating.
            if (pod.SetupProblem?.Message != multiAttach)
            {
                LogMultiAttach(pod.Pod.Metadata.NamespaceProperty, pod.Pod.Metadata.Name, multiAttach);
            }

            pod.SetupProblem = ("ContainerCreating", multiAttach);
            return;
        }

        try
        {
            // Runs every sync: Secret and ConfigMap changes reach running pods by a ..data swap.
            pod.Volumes.Sync(cluster);
            pod.SetupProblem = null;
        }
        catch (PodSetupException e)
        {
            pod.SetupProblem = (e.Reason, e.Message);
            if (pod.Containers.All(c => !c.Running))
            {
                return;
            }
        }

        foreach (var container in pod.Containers)
        {
            if (container.CollectExit(now, options.RestartBackoff, options.MaxRestartBackoff))
            {
                LogContainerExited(pod.Pod.Metadata.NamespaceProperty, pod.Pod.Metadata.Name, container.Spec.Name, container.LastExitCode ?? -1, container.RestartDueAt!.Value);
            }

            if (!container.Running && (container.RestartDueAt is null || now >= container.RestartDueAt))
            {
                StartContainer(pod, container, cluster, now);
            }

            if (container.Running && container.StartedAt is { } startedAt)
            {
                container.Readiness?.Tick(probeClient, now, startedAt, Wake);
                container.Liveness?.Tick(probeClient, now, startedAt, Wake);
                if (container.Liveness?.Failed == true)
                {
                    // As the kubelet does: a container that fails its liveness probe is killed and restarted.
                    LogLivenessFailed(pod.Pod.Metadata.NamespaceProperty, pod.Pod.Metadata.Name, container.Spec.Name);
                    container.Kill();
                }
            }
        }
    }

    /// <summary>
    /// The Multi-Attach error when a claim of this pod is mounted by another pod with a running container; every
    /// claim is treated as ReadWriteOnce and every pod as if on its own node.
    /// </summary>
    private string? ClaimInUse(LocalPod pod)
    {
        foreach (var (volume, claim) in pod.Volumes!.Claims)
        {
            var users = pods.Values
                .Where(other => !ReferenceEquals(other, pod) && other.Pod.Metadata.NamespaceProperty == pod.Pod.Metadata.NamespaceProperty
                    && other.Containers.Any(c => c.Running) && other.Volumes?.Claims.Any(c => c.Claim == claim) == true)
                .Select(other => other.Pod.Metadata.Name)
                .Order(StringComparer.Ordinal)
                .ToList();
            if (users.Count > 0)
            {
                return $"Multi-Attach error for volume \"{volume}\" (claim {claim}): Volume is already used by pod(s) {string.Join(", ", users)}";
            }
        }

        return null;
    }

    private void StartContainer(LocalPod pod, LocalContainer container, ClusterSnapshot cluster, DateTimeOffset now)
    {
        try
        {
            var start = ContainerLaunch.Build(pod.Pod, container.Spec, pod.Address.ToString(), pod.Volumes!, pod.ServiceAccount?.Directory, cluster, options, pod.Directory);
            container.Start(start, now, time, Wake);
            LogContainerStarted(pod.Pod.Metadata.NamespaceProperty, pod.Pod.Metadata.Name, container.Spec.Name, container.ProcessId, container.LogPath);
        }
        catch (PodSetupException e)
        {
            container.Waiting = (e.Reason, e.Message);
        }
        catch (Win32Exception e)
        {
            container.Waiting = ("RunContainerError", e.Message);
        }
    }

    private async Task WritePodStatusAsync(LocalPod pod, DateTimeOffset now, CancellationToken token)
    {
        var status = PodStatusBuilder.Build(pod, options.StatusOnly, now);
        var json = KubernetesJson.Serialize(new V1Pod { Status = status });
        if (json == pod.WrittenStatus)
        {
            return;
        }

        try
        {
            await client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(json, V1Patch.PatchType.MergePatch), pod.Pod.Name(), pod.Pod.Namespace(), cancellationToken: token).ConfigureAwait(false);
            pod.WrittenStatus = json;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Deleted meanwhile; the next sync stops it.
        }
    }

    private async Task WriteDeploymentStatusAsync(V1Deployment deployment, string hash, DateTimeOffset now, CancellationToken token)
    {
        var owned = pods.Values.Where(p => p.DeploymentUid == deployment.Uid()).ToList();
        var status = DeploymentStatusBuilder.Build(deployment, hash, owned, options.StatusOnly, now);
        if (KubernetesJson.Serialize(status) == KubernetesJson.Serialize(deployment.Status ?? new V1DeploymentStatus()))
        {
            return;
        }

        try
        {
            // A replace, not a merge patch: counters that drop to zero must disappear, not linger.
            deployment.Status = status;
            await client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(deployment, deployment.Name(), deployment.Namespace(), cancellationToken: token).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Changed since the list; the next sync writes the status again.
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Deleted meanwhile.
        }
    }

    private LocalPodInfo Describe(LocalPod pod) => new(
        pod.Pod.Namespace(),
        pod.Pod.Name(),
        pod.Key,
        pod.DeploymentName,
        pod.Address.ToString(),
        pod.Directory,
        pod.Ready(options.StatusOnly),
        pod.Containers.Select(c => new LocalContainerInfo(c.Spec.Name, c.ProcessId, c.RestartCount, c.Ready, c.LogPath, c.PreviousLogPath)).ToList());

    // Another process (a second sandbox, a leftover receiver) may hold the address already.
    private static bool PortsFree(IPAddress address, List<int> ports)
    {
        foreach (var port in ports)
        {
            var listener = new System.Net.Sockets.TcpListener(address, port);
            try
            {
                listener.Start();
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
            finally
            {
                listener.Dispose();
            }
        }

        return true;
    }

    /// <summary>A short, stable hash of the pod template, like the deployment controller's pod-template-hash.</summary>
    internal static string TemplateHash(V1PodTemplateSpec template)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(template)));
        return Convert.ToHexStringLower(digest, 0, 5);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pod {Namespace}/{Pod} waits: {Problem}")]
    private partial void LogMultiAttach(string @namespace, string pod, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod {Namespace}/{Pod} created with IP {PodIp}")]
    private partial void LogPodCreated(string @namespace, string pod, IPAddress podIp);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod {Namespace}/{Pod} stopped and deleted")]
    private partial void LogPodDeleted(string @namespace, string pod);

    [LoggerMessage(Level = LogLevel.Information, Message = "Container {Namespace}/{Pod}/{Container} started as process {ProcessId}, log {LogPath}")]
    private partial void LogContainerStarted(string @namespace, string pod, string container, int? processId, string logPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {Namespace}/{Pod}/{Container} exited with code {ExitCode}; restart at {RestartAt}")]
    private partial void LogContainerExited(string @namespace, string pod, string container, int exitCode, DateTimeOffset restartAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {Namespace}/{Pod}/{Container} failed its liveness probe; killing it")]
    private partial void LogLivenessFailed(string? @namespace, string? pod, string container);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watch of {Resource} failed: {Error}; retrying")]
    private partial void LogWatchFailed(string resource, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sync failed with {ErrorType}: {Error}; retrying")]
    private partial void LogSyncFailed(string errorType, string error);
}
