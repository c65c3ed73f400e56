using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Sandbox.Greenhouse;
using Sandbox.KubeApi;
using Sandbox.Kubelet;

namespace Sandbox;

/// <summary>
/// <c>sandbox run</c>: the whole local stack behind <c>make run</c>: Kubernetes API emulator, CRD,
/// Greenhouse simulator (with a control endpoint and the "Greenhouse admin" that configures webhooks),
/// the operator as a process and the local kubelet that runs the receivers. Runs until Ctrl-C.
/// </summary>
internal static class RunCommand
{
    public const string Usage = "run [--port 6443] [--greenhouse-port 7470] [--control-port 7471] [--candidates N] [--state DIR] [--first-pod-ip 127.0.0.2] [--image SUFFIX=FILE[,ARG...]] [--status-only] [--rbac]   the full local stack (make run)";

    public const string ReceiverImage = "ghcr.io/greenhouse-integration/greenhouse-receiver:sandbox";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        try
        {
            return await RunStackAsync(args, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0; // Ctrl-C while starting.
        }
    }

    private static async Task<int> RunStackAsync(string[] args, CancellationToken cancellationToken)
    {
        var apiPort = 6443;
        var greenhousePort = 7470;
        var controlPort = 7471;
        var candidates = 100;
        var firstPodIp = IPAddress.Parse("127.0.0.2");
        var images = new List<ImageCommand>();
        var statusOnly = false;
        var rbac = false;
        var state = Path.Combine(SandboxLayout.RepositoryRoot, ".run", "sandbox");
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            var number = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 65535 ? n : -1;
            switch (args[i])
            {
                case "-h" or "--help":
                    Console.WriteLine("usage: sandbox " + Usage);
                    return 0;
                case "--status-only":
                    statusOnly = true;
                    continue;
                case "--rbac":
                    rbac = true;
                    continue;
                case "--port" when number >= 0: apiPort = number; break;
                case "--greenhouse-port" when number >= 0: greenhousePort = number; break;
                case "--control-port" when number >= 0: controlPort = number; break;
                case "--candidates" when number >= 0: candidates = number; break;
                case "--state" when !string.IsNullOrWhiteSpace(value): state = Path.GetFullPath(value); break;
                case "--image" when value is not null && ImageCommand.TryParse(value, out var image): images.Add(image!); break;
                case "--first-pod-ip" when IPAddress.TryParse(value, out var ip) && ip.GetAddressBytes() is [127, _, _, _]: firstPodIp = ip; break;
                default:
                    await Console.Error.WriteLineAsync($"run: unknown or invalid argument '{args[i]}'. Usage: {Usage}").ConfigureAwait(false);
                    return 2;
            }

            i++;
        }

        var operatorAssembly = SandboxLayout.BuildOutput("Greenhouse.Operator", "Greenhouse.Operator.dll");
        var receiverImage = ImageCommand.Receiver(SandboxLayout.RepositoryRoot, SandboxLayout.Configuration);
        foreach (var assembly in new[] { operatorAssembly, receiverImage.Arguments[0] })
        {
            if (!File.Exists(assembly))
            {
                await Console.Error.WriteLineAsync($"run: {assembly} does not exist; build it first (dotnet build -c {SandboxLayout.Configuration} {Path.GetDirectoryName(Path.GetRelativePath(SandboxLayout.RepositoryRoot, assembly))!.Split("/bin/")[0]}) or use scripts/run-sandbox.sh, which builds everything.").ConfigureAwait(false);
                return 1;
            }
        }

        // The emulator keeps nothing across runs, so neither does the node: old pods and claims would describe a cluster that is gone.
        if (Directory.Exists(state))
        {
            Directory.Delete(state, recursive: true);
        }

        Directory.CreateDirectory(state);
        using var loggerFactory = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddFilter("System", LogLevel.Warning));

        // The default port or the next free one (another sandbox, a forgotten one).
        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { Port = FreeFrom(apiPort), LoggerFactory = loggerFactory, Rbac = rbac, OwnerReferencesPermissionEnforcement = rbac }, cancellationToken).ConfigureAwait(false);
        var kubeconfig = Path.Combine(state, "kubeconfig");
        await server.WriteKubeconfigAsync(kubeconfig, cancellationToken).ConfigureAwait(false);
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        await ApplyCrdsAsync(client, cancellationToken).ConfigureAwait(false);
        await CreateNamespaceAsync(client, "greenhouse-system", cancellationToken).ConfigureAwait(false);

        // With --rbac the operator is what the chart makes it: its ServiceAccount, bound to the chart's roles.
        string? operatorUser = null;
        var operatorKubeconfig = kubeconfig;
        if (rbac)
        {
            var serviceAccount = await ChartRbac.ApplyAsync(client, "greenhouse-system", cancellationToken).ConfigureAwait(false);
            operatorKubeconfig = await SandboxIdentities.CreateServiceAccountKubeconfigAsync(server, "greenhouse-system", serviceAccount, kubeconfig, cancellationToken).ConfigureAwait(false);
            operatorUser = $"system:serviceaccount:greenhouse-system:{serviceAccount}";
        }

        await using var simulator = await GreenhouseSimulator.StartAsync(
            new GreenhouseSimulatorOptions { Port = FreeOr(greenhousePort), CandidateCount = candidates },
            cancellationToken).ConfigureAwait(false);
        var registrar = new WebhookRegistrar(client, simulator, loggerFactory.CreateLogger<WebhookRegistrar>());
        var traffic = new SimulatedTraffic(simulator);
        await using var trafficLifetime = traffic.ConfigureAwait(false);
        var control = await SimulatorControl.StartAsync(simulator, registrar, traffic, FreeOr(controlPort), cancellationToken).ConfigureAwait(false);
        await using var controlLifetime = control.ConfigureAwait(false);
        var controlUrl = control.Urls.First() + "/";

        var metricsPort = FreeOr(0);
        var operatorProcess = OperatorProcess.Start(
            operatorAssembly,
            new Dictionary<string, string>
            {
                ["KUBECONFIG"] = operatorKubeconfig,
                ["Operator__ReceiverImage"] = ReceiverImage,
                ["Operator__Namespace"] = "greenhouse-system",
                ["Operator__BindAddress"] = "127.0.0.1",
                ["Operator__MetricsPort"] = metricsPort.ToString(CultureInfo.InvariantCulture),
                ["Operator__LeaderElection__Identity"] = "sandbox-operator",
            },
            Path.Combine(state, "operator.log"));
        await using var operatorLifetime = operatorProcess.ConfigureAwait(false);

        var kubelet = LocalKubelet.Start(
            client,
            new LocalKubeletOptions
            {
                StateDirectory = Path.Combine(state, "node"),
                FirstPodAddress = firstPodIp,
                StatusOnly = statusOnly,
                Images = [.. images, receiverImage],
                Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["DOTNET_ENVIRONMENT"] = "Development" },
                // In-cluster access as in a real cluster: KUBERNETES_SERVICE_HOST/PORT at the TLS endpoint, ca.crt and a pod-bound token.
                ApiServer = server.SecureBaseAddress,
                CertificateAuthorityPem = server.CertificateAuthorityPem,
            },
            loggerFactory);
        await using var kubeletLifetime = kubelet.ConfigureAwait(false);
        server.ContainerLogs = kubelet; // kubectl logs reads the containers' log files through the kubelet.

        // Webhooks the operator registers through Harvest (registration HarvestApi) name the public endpoint: deliver them to the receiver pods.
        simulator.WebhookEndpointResolver = new ReceiverEndpointResolver(client).ResolveAsync;
        // Status-only pods run nothing that could take a webhook.
        var registering = statusOnly ? Task.CompletedTask : registrar.RunAsync(TimeSpan.FromSeconds(1), cancellationToken);

        PrintNextSteps(rbac ? server.SecureBaseAddress : server.BaseAddress, rbac, kubeconfig, simulator, controlUrl, metricsPort, state, firstPodIp);
        if (operatorUser is not null)
        {
            Console.WriteLine($"""
                RBAC enforced: the operator runs as {operatorUser} with the chart's roles (kubeconfig {operatorKubeconfig}).
                  kubectl auth can-i --list -n recruiting --as={operatorUser}
                  Requests RBAC refused are printed here as they happen; {Path.Combine(state, OperatorPermissions.FileName)} lists every permission the operator used.

                """);
        }

        var permissions = new OperatorPermissions(server.Requests, operatorUser, Path.Combine(state, OperatorPermissions.FileName));
        await using var permissionsLifetime = permissions.ConfigureAwait(false);
        var exitCode = 0;
        try
        {
            // Without the operator nothing reconciles: a crash ends the sandbox instead of leaving it half alive.
            await operatorProcess.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"sandbox: the operator exited with code {operatorProcess.ExitCode}; its log: {Path.Combine(state, "operator.log")}").ConfigureAwait(false);
            exitCode = 1;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("sandbox: stopping receivers, operator, simulator and API server");
        }

        if (exitCode == 0)
        {
            await registering.ConfigureAwait(false);
        }

        return exitCode;
    }

    private static int FreeFrom(int port)
    {
        for (var candidate = port; port != 0 && candidate < port + 20; candidate++)
        {
            if (FreeOr(candidate) == candidate)
            {
                return candidate;
            }
        }

        return FreeOr(0);
    }

    private static int FreeOr(int preferred)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, preferred);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        catch (SocketException) when (preferred != 0)
        {
            return FreeOr(0);
        }
    }

    private static async Task ApplyCrdsAsync(Kubernetes client, CancellationToken cancellationToken)
    {
        foreach (var file in Directory.GetFiles(Path.Combine(SandboxLayout.RepositoryRoot, "crds"), "*.yaml"))
        {
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false));
            await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task CreateNamespaceAsync(Kubernetes client, string name, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Exists.
        }
    }

    private static void PrintNextSteps(Uri apiServer, bool rbac, string kubeconfig, GreenhouseSimulator simulator, string control, int metricsPort, string state, IPAddress firstPodIp)
    {
        if (simulator.BaseUrl.Port != 7470)
        {
            Console.WriteLine($"Note: the Greenhouse simulator is on port {simulator.BaseUrl.Port}, not 7470: change baseUrl and tokenUrl in examples/sandbox/20-greenhouseintegration.yaml before applying it.");
        }

        var ids = simulator.CandidateIds;
        var candidate = ids.Count > 0 ? ids[0] : 0;
        var relativeKubeconfig = Path.GetRelativePath(SandboxLayout.RepositoryRoot, kubeconfig);
        Console.WriteLine($"""

            Sandbox running (test harness: loopback only, {(rbac ? "RBAC enforced" : "every request allowed")}, nothing persisted). Ctrl-C stops everything.
              Kubernetes API   {apiServer}   kubeconfig {kubeconfig}
              Greenhouse       {simulator.BaseUrl} (Harvest {simulator.HarvestBaseUrl}, token {simulator.TokenUrl}, client sandbox-client)
              Greenhouse UI    {control}  (acts as a Greenhouse user: change candidates, see webhook deliveries)
              Operator         log {Path.Combine(state, "operator.log")}, metrics http://127.0.0.1:{metricsPort}/metrics
              Receiver pods    {firstPodIp} and up, logs: kubectl logs (files {Path.Combine(state, "node", "pods", "<namespace>_<pod>", "logs", "<container>", "<run>.log")})

            Next steps (from the repository root, in another terminal):
              export KUBECONFIG=$PWD/{relativeKubeconfig}
              kubectl apply -f examples/sandbox/
              kubectl get ghi -A -w                        # Ready=True after a few seconds; Ctrl-C
              kubectl describe ghi acme -n recruiting      # conditions and events
              kubectl get pods -n recruiting -o wide       # the receiver's pod IP, e.g. {firstPodIp}
              kubectl logs -n recruiting deploy/acme-receiver --tail=20 -f   # the receiver's log; Ctrl-C
              POD=$(kubectl get pods -n recruiting -l app.kubernetes.io/instance=acme -o jsonpath='{"{"}.items[0].status.podIP{"}"}')
              curl -s -X POST '{control}candidates/{candidate}/update?title=Staff%20Engineer'   # Greenhouse sends update_candidate
              curl -s {control}webhooks                   # delivery state (Delivered, attempts, status)
              TOKEN=$(kubectl create token crm-sync -n recruiting --audience greenhouse-receiver/recruiting/acme)   # granted read in spec.api.clients
              curl -s -H "Authorization: Bearer $TOKEN" http://$POD:8082/v1/candidates/{candidate}      # the receiver's mirror has it
              curl -s -H "Authorization: Bearer $TOKEN" "http://$POD:8082/v1/candidates:lookup?email=..."    # duplicate check by e-mail or profile URL
              curl -s -H "Authorization: Bearer $TOKEN" http://$POD:8082/v1/health/sync      # Harvest sweep: "candidates":{ids.Count}
              curl -s -o /dev/null -w '%{"{"}http_code{"}"}\n' http://$POD:8082/v1/candidates/{candidate}   # 401 without a token
              kubectl delete pod -n recruiting -l app.kubernetes.io/instance=acme   # a crash: a new pod, Greenhouse follows it
              curl -s -X POST '{control}traffic?interval-ms=500'   # continuous signed traffic (DELETE {control}traffic stops it)
              curl -s -X POST {control}admin/hold                 # the Greenhouse admin goes away: a rotated key is pasted at admin/release
              kubectl annotate ghi acme -n recruiting greenhouse.resource.io/rotate=$(date +%s)   # rotate a generated webhook secret
              curl -s -X POST '{control}faults?harvest=429'       # Harvest answers 429 (or 401, 503) until DELETE {control}faults
              (Operator__HealthPollInterval=00:00:02 make run: status every 2 s instead of 30 s; docs/sandbox.md "Trying the integration's lifecycle")

            """);
    }
}
