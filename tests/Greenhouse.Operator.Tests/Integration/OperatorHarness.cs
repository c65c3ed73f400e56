using System.Text;
using ControllerRuntime;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Crds;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using Sandbox.KubeApi;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>
/// An emulated API server with the generated CRD installed, a namespace, and operators started
/// in-process against it. Disposing stops the operators and the server.
/// </summary>
internal sealed class OperatorHarness : IAsyncDisposable
{
    public const string Namespace = "recruiting";

    private readonly List<(CancellationTokenSource Stop, Task Run, GreenhouseOperator Operator, IKubernetes Client)> _operators = [];

    private OperatorHarness(KubeApiServer api, IKubernetes client)
    {
        Api = api;
        Client = client;
    }

    public KubeApiServer Api { get; }

    public IKubernetes Client { get; }

    /// <summary>The token endpoint operators started here ask (no network; accepts until told otherwise).</summary>
    public FakeTokenEndpoint Tokens { get; } = new();

    /// <summary>The receiver pods' SyncHealth as operators started here see it (no network).</summary>
    public FakeReceiverHealth Health { get; } = new();

    public static OperatorSettings Settings(string identity = "test-operator", bool leaderElection = false) => new()
    {
        ReceiverImage = "ghcr.io/example/greenhouse-receiver:1.0.0",
        Namespace = Namespace,
        Concurrency = 4,
        ResyncPeriod = TimeSpan.FromSeconds(1),
        LeaderElection = new LeaderElectionSettings
        {
            Enabled = leaderElection,
            Identity = identity,
            LeaseDuration = TimeSpan.FromSeconds(3),
            RenewDeadline = TimeSpan.FromSeconds(2),
            RetryPeriod = TimeSpan.FromMilliseconds(300),
        },
    };

    public static async Task<OperatorHarness> StartAsync()
    {
        var api = await KubeApiServer.StartAsync();
        var client = NewClient(api);
        var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(CrdManifests.ToYaml(typeof(GreenhouseIntegration)));
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        await Eventually.TrueAsync(async () =>
        {
            var stored = await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name);
            return stored.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true;
        }, "the CRD is established");
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        return new OperatorHarness(api, client);
    }

    public static IKubernetes NewClient(KubeApiServer api, params DelegatingHandler[] handlers)
    {
        using var kubeconfig = new MemoryStream(Encoding.UTF8.GetBytes(api.KubeconfigYaml));
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        return new Kubernetes(config, handlers);
    }

    /// <summary>Starts an operator (own client, own metrics registry) and waits until its caches are synced.</summary>
    public async Task<GreenhouseOperator> StartOperatorAsync(OperatorSettings? settings = null, WriteRecorder? writes = null, bool waitForSync = true, OperatorDependencies? dependencies = null, ControllerMetrics? controllerMetrics = null, string? userAgent = null)
    {
        var metrics = controllerMetrics ?? new ControllerMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));
        DelegatingHandler[] handlers = writes is null ? [new ApiRequestMetricsHandler(metrics)] : [new ApiRequestMetricsHandler(metrics), writes];
        if (userAgent is not null)
        {
            handlers = [.. handlers, new UserAgentHandler(userAgent)];
        }

        var client = NewClient(Api, handlers);
        var op = new GreenhouseOperator(client, settings ?? Settings(), TimeProvider.System, NullLoggerFactory.Instance, metrics,
            new OperatorMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())),
            dependencies ?? new OperatorDependencies { HarvestTokenCheck = Tokens.CheckAsync, HealthClient = Health });
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => op.RunAsync(stop.Token));
        _operators.Add((stop, run, op, client));
        if (waitForSync)
        {
            await Eventually.TrueAsync(() => op.Manager.HasSynced || run.IsCompleted, "the operator's caches are synced");
            Assert.False(run.IsFaulted, run.Exception?.ToString());
        }

        return op;
    }

    public async Task StopOperatorAsync(GreenhouseOperator op)
    {
        var entry = _operators.Single(o => o.Operator == op);
        _operators.Remove(entry);
        await entry.Stop.CancelAsync();
        await entry.Run.WaitAsync(TimeSpan.FromSeconds(20));
        entry.Stop.Dispose();
        op.Dispose();
        entry.Client.Dispose();
    }

    public async Task<GreenhouseIntegration> CreateIntegrationAsync(string name, GreenhouseIntegrationSpec spec)
    {
        var integration = new GreenhouseIntegration { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace }, Spec = spec };
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(integration, GreenhouseIntegration.Group, GreenhouseIntegration.Version, Namespace, GreenhouseIntegration.Plural);
        return await GetIntegrationAsync(name);
    }

    public async Task<GreenhouseIntegration> GetIntegrationAsync(string name) =>
        await Client.CustomObjects.GetNamespacedCustomObjectAsync<GreenhouseIntegration>(GreenhouseIntegration.Group, GreenhouseIntegration.Version, Namespace, GreenhouseIntegration.Plural, name);

    /// <summary>Merge-patches the spec (nulls are dropped by the serializer; use <see cref="PatchAsync"/> to remove a field).</summary>
    public Task PatchSpecAsync(string name, object specPatch) => PatchAsync(name, KubernetesJson.Serialize(new { spec = specPatch }));

    public async Task PatchAsync(string name, string mergePatchJson)
    {
        var patch = new V1Patch(mergePatchJson, V1Patch.PatchType.MergePatch);
        await Client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, GreenhouseIntegration.Group, GreenhouseIntegration.Version, Namespace, GreenhouseIntegration.Plural, name);
    }

    public async Task<V1ConfigMap?> FindConfigMapAsync(string name)
    {
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(Namespace, fieldSelector: $"metadata.name={name}");
        return list.Items.SingleOrDefault();
    }

    public async Task<V1Deployment?> FindDeploymentAsync(string name)
    {
        var list = await Client.AppsV1.ListNamespacedDeploymentAsync(Namespace, fieldSelector: $"metadata.name={name}");
        return list.Items.SingleOrDefault();
    }

    /// <summary>Plays the deployment controller and kubelet: reports every desired pod ready and available.</summary>
    public async Task MarkDeploymentAvailableAsync(string name)
    {
        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync(name, Namespace);
        var replicas = deployment.Spec.Replicas ?? 1;
        var now = DateTime.UtcNow;
        deployment.Status = new V1DeploymentStatus
        {
            ObservedGeneration = deployment.Metadata.Generation,
            Replicas = replicas,
            UpdatedReplicas = replicas,
            ReadyReplicas = replicas,
            AvailableReplicas = replicas,
            Conditions =
            [
                new V1DeploymentCondition { Type = "Available", Status = "True", Reason = "MinimumReplicasAvailable", Message = "Deployment has minimum availability.", LastUpdateTime = now, LastTransitionTime = now },
            ],
        };
        await Client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(deployment, name, Namespace);
    }

    /// <summary>Plays the kubelet for one receiver pod: Running, Ready, with <paramref name="podIp"/>.</summary>
    public async Task CreateReadyPodAsync(string integration, string podName, string podIp)
    {
        var pod = await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = podName, NamespaceProperty = Namespace, Labels = DesiredStateBuilder.Labels(integration) },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "receiver", Image = "receiver:1" }] },
        }, Namespace);
        pod.Status = new V1PodStatus
        {
            Phase = "Running",
            PodIP = podIp,
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = DateTime.UtcNow }],
        };
        await Client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, podName, Namespace);
    }

    public async Task<Condition?> ConditionAsync(string name, string type) =>
        Conditions.Find((await GetIntegrationAsync(name)).Status?.Conditions, type);

    public async Task<Condition?> ReadyConditionAsync(string name) =>
        Conditions.Find((await GetIntegrationAsync(name)).Status?.Conditions, ConditionTypes.Ready);

    /// <summary>Retries a test-side call that injected faults (5xx, 409) may fail.</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (k8s.Autorest.HttpOperationException ex) when (attempt < 50 && ((int)ex.Response.StatusCode >= 500 || (int)ex.Response.StatusCode is 409 or 429))
            {
                await Task.Yield();
            }
        }
    }

    public async Task CreateSecretAsync(string name, IDictionary<string, string> data) =>
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
            StringData = data,
        }, Namespace);

    public async ValueTask DisposeAsync()
    {
        foreach (var (stop, run, op, client) in _operators)
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(20));
            stop.Dispose();
            op.Dispose();
            client.Dispose();
        }

        Client.Dispose();
        await Api.DisposeAsync();
    }
}
