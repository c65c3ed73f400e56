using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Greenhouse.Testing;
using k8s;
using k8s.Models;
using Sandbox.KubeApi;
using Sandbox.Kubelet;

namespace Sandbox.Kubelet.Tests;

/// <summary>An emulator, a client and a local kubelet per test, running the TestPod program as image "sandbox/test-pod".</summary>
public abstract class KubeletTest : IAsyncLifetime
{
    protected const string Namespace = "default";
    protected const int Port = 8080;

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

    protected KubeApiServer Server { get; private set; } = null!;

    protected Kubernetes Client { get; private set; } = null!;

    protected LocalKubelet Kubelet { get; private set; } = null!;

    protected string StateDirectory { get; } = Path.Combine(Path.GetTempPath(), "kubelet-test-" + Guid.NewGuid().ToString("N"));

    protected virtual bool StatusOnly => false;

    /// <summary>A range of its own per test, so parallel tests (and other runs on the machine) never share a pod address.</summary>
    protected IPAddress FirstPodAddress { get; } = RandomPodRange();

    public static IPAddress RandomPodRange() =>
        new([127, (byte)RandomNumberGenerator.GetInt32(64, 250), (byte)RandomNumberGenerator.GetInt32(0, 256), 2]);

    public static string TestPodAssembly
    {
        get
        {
            var configuration = typeof(KubeletTest).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            return RepositoryPaths.Combine("tests", "Sandbox.Kubelet.Tests", "TestPod", "bin", configuration, "net10.0", "Sandbox.Kubelet.TestPod.dll");
        }
    }

    public async Task InitializeAsync()
    {
        Server = await KubeApiServer.StartAsync();
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(new MemoryStream(Encoding.UTF8.GetBytes(Server.KubeconfigYaml))));
        Kubelet = LocalKubelet.Start(Client, new LocalKubeletOptions
        {
            StateDirectory = StateDirectory,
            Images = [new ImageCommand("sandbox/test-pod", "dotnet", [TestPodAssembly])],
            StatusOnly = StatusOnly,
            FirstPodAddress = FirstPodAddress,
            SyncPeriod = TimeSpan.FromMilliseconds(200),
            RestartBackoff = TimeSpan.FromMilliseconds(200),
            MaxTerminationGracePeriod = TimeSpan.FromSeconds(2),
        });
    }

    public async Task DisposeAsync()
    {
        await Kubelet.DisposeAsync();
        Client.Dispose();
        await Server.DisposeAsync();
        if (Directory.Exists(StateDirectory))
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
    }

    protected static V1Deployment TestDeployment(string name, int replicas, Action<V1PodSpec>? configure = null)
    {
        var labels = new Dictionary<string, string> { ["app"] = name };
        var spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = "main",
                    Image = "example.com/sandbox/test-pod:1.0",
                    Args = [$"--listen=http://0.0.0.0:{Port}/"],
                    Ports = [new V1ContainerPort { Name = "http", ContainerPort = Port }],
                    ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/readyz", Port = "http" }, PeriodSeconds = 1 },
                },
            ],
        };
        configure?.Invoke(spec);
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = 1, MaxUnavailable = 0 } },
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = spec },
            },
        };
    }

    protected async Task<IList<V1Pod>> PodsAsync(string deployment) =>
        (await Client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: "app=" + deployment)).Items;

    protected async Task WaitAvailableAsync(string deployment, int replicas, TimeSpan? timeout = null) =>
        await Eventually.TrueAsync(
            async () =>
            {
                var status = (await Client.AppsV1.ReadNamespacedDeploymentAsync(deployment, Namespace)).Status;
                return (status?.AvailableReplicas ?? 0) == replicas && (status?.Replicas ?? 0) == replicas && (status?.UpdatedReplicas ?? 0) == replicas
                    && status?.Conditions?.Any(c => c.Type == "Available" && c.Status == "True") == true;
            },
            $"deployment {deployment} has {replicas} available replicas",
            timeout ?? TimeSpan.FromSeconds(40));

    /// <summary>GET against a pod's process on its own address: the answer's body whatever its status, null when nothing answers.</summary>
    protected static async Task<string?> AskAsync(string podIp, string path)
    {
        try
        {
            using var response = await Http.GetAsync(new Uri($"http://{podIp}:{Port}{path}"));
            return await response.Content.ReadAsStringAsync();
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    public static bool ProcessAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
