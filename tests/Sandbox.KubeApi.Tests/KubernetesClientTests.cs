using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;

namespace Sandbox.KubeApi.Tests;

/// <summary>The calls the operator makes through KubernetesClient 21: typed, generic, custom objects, errors, leader election.</summary>
public sealed class KubernetesClientTests : EmulatorTest
{
    private Kubernetes _client = null!;

    protected override Task ArrangeAsync()
    {
        _client = TestClients.Kubernetes(Server);
        return Task.CompletedTask;
    }

    protected override Task CleanUpAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Typed_deployment_round_trip_and_status_flip_to_available()
    {
        var deployment = new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web", Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "receiver:1" }] },
                },
            },
        };

        var created = await _client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default");
        created.Status = new V1DeploymentStatus
        {
            ObservedGeneration = created.Metadata.Generation,
            Replicas = 1,
            ReadyReplicas = 1,
            AvailableReplicas = 1,
            UpdatedReplicas = 1,
            Conditions = [new V1DeploymentCondition { Type = "Available", Status = "True", Reason = "MinimumReplicasAvailable" }],
        };
        var withStatus = await _client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(created, "web", "default");
        var read = await _client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");

        Assert.Equal(1, created.Metadata.Generation);
        Assert.Equal("True", read.Status.Conditions.Single(c => c.Type == "Available").Status);
        Assert.Equal(1, read.Status.AvailableReplicas);
        Assert.Equal(withStatus.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Equal(1, read.Metadata.Generation);
    }

    [Fact]
    public async Task Not_found_and_conflict_surface_as_HttpOperationException_with_a_Status_body()
    {
        var notFound = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedSecretAsync("nope", "default"));
        var cm = await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a" } }, "default");
        await _client.CoreV1.ReplaceNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a", ResourceVersion = cm.Metadata.ResourceVersion }, Data = new Dictionary<string, string> { ["x"] = "1" } }, "a", "default");
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, "a", "default"));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, notFound.Response.StatusCode);
        Assert.Equal("NotFound", JsonDocument.Parse(notFound.Response.Content).RootElement.GetProperty("reason").GetString());
        Assert.Equal(System.Net.HttpStatusCode.Conflict, conflict.Response.StatusCode);
    }

    [Fact]
    public async Task Typed_delete_returns_a_Success_status()
    {
        await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a" } }, "default");

        var status = await _client.CoreV1.DeleteNamespacedConfigMapAsync("a", "default", propagationPolicy: "Background");

        Assert.Equal("Success", status.Status);
        Assert.Equal("configmaps", status.Details.Kind);
    }

    [Fact]
    public async Task Custom_objects_and_generic_client_work_once_the_crd_exists()
    {
        await Crds.InstallAsync(Http, Crds.Widget());
        using var generic = new GenericClient(_client, "example.com", "v1", "widgets", disposeClient: false);

        var created = await _client.CustomObjects.CreateNamespacedCustomObjectAsync(Crds.WidgetObject("w"), "example.com", "v1", "default", "widgets");
        var viaGeneric = await generic.ReadNamespacedAsync<Widget>("default", "w");
        var viaGenericCreate = await generic.CreateNamespacedAsync(new Widget { Metadata = new V1ObjectMeta { Name = "w2" }, Spec = new WidgetSpec { Size = 2 } }, "default");
        var list = (object)await _client.CustomObjects.ListNamespacedCustomObjectAsync("example.com", "v1", "default", "widgets");
        var patched = await _client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch("""{"status":{"phase":"Ready"}}""", V1Patch.PatchType.MergePatch), "example.com", "v1", "default", "widgets", "w");

        Assert.NotNull(created);
        Assert.Equal("a", viaGeneric.Spec.Mode);
        Assert.Equal(1, viaGeneric.Metadata.Generation);
        Assert.Equal("a", viaGenericCreate.Spec.Mode);
        Assert.Equal(2, ((JsonElement)list).GetProperty("items").GetArrayLength());
        Assert.Equal("Ready", ((JsonElement)patched).GetProperty("status").GetProperty("phase").GetString());
    }

    [Fact]
    public async Task Events_written_through_events_k8s_io_show_up_as_core_events_and_back()
    {
        var written = await _client.EventsV1.CreateNamespacedEventAsync(new Eventsv1Event
        {
            Metadata = new V1ObjectMeta { Name = "e1" },
            EventTime = DateTime.UtcNow,
            Regarding = new V1ObjectReference { Kind = "ConfigMap", Name = "a", NamespaceProperty = "default", Uid = "u1" },
            Note = "secret rotated",
            Reason = "Rotated",
            Type = "Normal",
            Action = "Rotate",
            ReportingController = "example.com/operator",
            ReportingInstance = "op-1",
        }, "default");

        var core = await _client.CoreV1.ReadNamespacedEventAsync("e1", "default");
        var coreList = await _client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: "involvedObject.name=a");
        var back = await _client.EventsV1.ReadNamespacedEventAsync("e1", "default");

        Assert.Equal("secret rotated", core.Message);
        Assert.Equal("a", core.InvolvedObject.Name);
        Assert.Equal("example.com/operator", core.ReportingComponent);
        Assert.Single(coreList.Items);
        Assert.Equal("secret rotated", back.Note);
        Assert.Equal(written.Metadata.Uid, back.Metadata.Uid);
    }

    [Fact]
    public async Task Two_leader_electors_on_one_lease_elect_exactly_one_and_the_other_takes_over()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var clientA = TestClients.Kubernetes(Server);
        using var clientB = TestClients.Kubernetes(Server);
        var leaders = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var aLeads = new TaskCompletionSource();
        var bLeads = new TaskCompletionSource();
        LeaderElector Elector(Kubernetes c, string id, TaskCompletionSource leads)
        {
            var config = new LeaderElectionConfig(new LeaseLock(c, "default", "op-lock", id))
            {
                // Short enough for a quick takeover, long enough that a loaded CI machine does not lose a renewal.
                LeaseDuration = TimeSpan.FromSeconds(3),
                RenewDeadline = TimeSpan.FromSeconds(2),
                RetryPeriod = TimeSpan.FromMilliseconds(250),
            };
            var e = new LeaderElector(config);
            e.OnStartedLeading += () =>
            {
                leaders.Enqueue(id);
                leads.TrySetResult();
            };
            return e;
        }

        using var a = Elector(clientA, "a", aLeads);
        using var aStop = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var runA = a.RunUntilLeadershipLostAsync(aStop.Token);
        await aLeads.Task.WaitAsync(cts.Token);
        using var b = Elector(clientB, "b", bLeads);
        var runB = b.RunUntilLeadershipLostAsync(cts.Token);
        var lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync("op-lock", "default", cancellationToken: cts.Token);
        Assert.Equal("a", lease.Spec.HolderIdentity);
        Assert.False(bLeads.Task.IsCompleted);

        await aStop.CancelAsync();
        await bLeads.Task.WaitAsync(cts.Token);
        var after = await _client.CoordinationV1.ReadNamespacedLeaseAsync("op-lock", "default", cancellationToken: cts.Token);
        await cts.CancelAsync();
        await Task.WhenAll(runA, runB).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Equal(["a", "b"], leaders);
        Assert.Equal("b", after.Spec.HolderIdentity);
        Assert.Equal(1, after.Spec.LeaseTransitions);
    }
}
