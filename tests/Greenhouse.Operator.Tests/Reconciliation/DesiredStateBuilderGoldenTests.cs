using System.Text;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Models;

namespace Greenhouse.Operator.Tests.Reconciliation;

/// <summary>
/// Table of integrations and the manifests they must produce. Set UPDATE_GOLDEN=1 to rewrite the
/// files after an intended change, then review the diff.
/// </summary>
public sealed class DesiredStateBuilderGoldenTests
{
    public static readonly TheoryData<string> Cases = new(["minimal", "full", "suspended"]);

    internal static readonly OperatorSettings Settings = new()
    {
        ReceiverImage = "ghcr.io/example/greenhouse-receiver:1.0.0",
        Namespace = "greenhouse-system",
        ApiClientNamespaces = ["monitoring"],
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Integration_produces_the_golden_manifests(string name)
    {
        var (integration, inputs) = Case(name);
        var actual = Render(DesiredStateBuilder.Build(integration, inputs, Settings));
        var path = RepositoryPaths.Combine("tests", "Greenhouse.Operator.Tests", "Reconciliation", "Golden", name + ".yaml");

        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run the tests with UPDATE_GOLDEN=1 and review it.");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    internal static (GreenhouseIntegration Integration, ResolvedInputs Inputs) Case(string name) => name switch
    {
        "minimal" => (Integration("acme", new GreenhouseIntegrationSpec
        {
            Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme" },
        }), new ResolvedInputs { WebhookSecret = Bytes("generated-secret-0123456789abcdef") }),
        "full" => (Integration("globex", new GreenhouseIntegrationSpec
        {
            Harvest = new HarvestSpec
            {
                CredentialsSecretRef = new SecretReference { Name = "globex-harvest" },
                SyncUserId = 4080,
                BaseUrl = "https://harvest.greenhouse.io/v3",
                TokenUrl = "https://auth.greenhouse.io/token",
            },
            Greenhouse = new GreenhouseAccountSpec { SsoDomain = "globex.greenhouse.io", MaildropEmail = "maildrop+globex@example.com" },
            Webhook = new WebhookSpec
            {
                Endpoint = "https://hooks.globex.example/greenhouse",
                SecretRef = new SecretKeyReference { Name = "globex-webhook", Key = "secret_key" },
                Events = ["candidate_stage_change", "update_candidate"],
                BasicAuthSecretRef = new SecretReference { Name = "globex-hook-basic" },
                Ingress = new IngressSpec
                {
                    ClassName = "nginx",
                    TlsSecretName = "hooks-tls",
                    Annotations = new Dictionary<string, string> { ["nginx.ingress.kubernetes.io/limit-rps"] = "20" },
                },
            },
            Receiver = new ReceiverSpec
            {
                Replicas = 3,
                Image = "registry.example/receiver:2.1.0",
                Resources = new ResourcesSpec
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("200m") },
                    Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("1Gi"), ["cpu"] = new("1") },
                },
                NodeSelector = new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" },
                Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "greenhouse", Effect = "NoSchedule" }],
            },
            Sync = new SyncSpec { ResyncInterval = "5m", FullResyncInterval = "12h", StaleAfter = "30m" },
            Storage = new StorageSpec { Size = new ResourceQuantity("5Gi"), StorageClassName = "fast" },
            Api = new ApiSpec
            {
                Clients =
                [
                    new ApiClientSpec { ServiceAccount = new ServiceAccountReference { Namespace = "crm", Name = "crm-sync" }, Scopes = ["read", "writeback"] },
                    new ApiClientSpec { ServiceAccount = new ServiceAccountReference { Namespace = "analytics", Name = "warehouse" }, Scopes = ["watch"] },
                ],
            },
        }), new ResolvedInputs
        {
            WebhookSecret = Bytes("current-webhook-secret"),
            PreviousWebhookSecret = Bytes("previous-webhook-secret"),
            Harvest = new HarvestCredentials(Bytes("client-id"), Bytes("client-secret"), null),
            BasicAuth = new BasicAuthCredentials(Bytes("greenhouse"), Bytes("basic-password")),
        }),
        "suspended" => (Integration("initech", new GreenhouseIntegrationSpec
        {
            Webhook = new WebhookSpec { Endpoint = "https://hooks.initech.example/gh" },
            Receiver = new ReceiverSpec { Replicas = 1 },
            Suspend = true,
        }), new ResolvedInputs { WebhookSecret = Bytes("initech-secret") }),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    internal static GreenhouseIntegration Integration(string name, GreenhouseIntegrationSpec spec) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "recruiting", Uid = $"00000000-0000-0000-0000-{name.Length:D12}", Generation = 1 },
        Spec = spec,
    };

    private static ReadOnlyMemory<byte> Bytes(string value) => Encoding.UTF8.GetBytes(value);

    private static string Render(DesiredState state)
    {
        IKubernetesObject?[] objects =
        [
            state.WebhookSecret, state.HarvestSecret, state.ConfigMap, state.ServiceAccount, state.PersistentVolumeClaim, state.Deployment,
            state.Service, state.Ingress, state.PodDisruptionBudget, state.NetworkPolicy,
        ];
        return string.Join("---\n", objects.Where(o => o is not null).Select(o => KubernetesYaml.Serialize(o).TrimEnd() + "\n"));
    }
}
