using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Greenhouse.Contracts;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;
using k8s.Models;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Pure function from an integration, the inputs the reconciler resolved and the operator settings
/// to the objects the integration should own. No I/O, no clock, no randomness: the same inputs
/// always give the same manifests, which is what lets the reconciler compare instead of rewrite.
/// </summary>
public static class DesiredStateBuilder
{
    public const string WebhookSecretsDirectory = "/etc/greenhouse/webhook";
    public const string BasicAuthDirectory = "/etc/greenhouse/basic-auth";
    public const string HarvestCredentialsDirectory = "/etc/greenhouse/harvest";
    public const string DataDirectory = "/var/lib/greenhouse";
    public const string ContainerName = "receiver";

    // The receiver image runs as this non-root user (distroless "nonroot").
    private const long RunAsUser = 65532;

    // Secret files readable by the owner and the pod's fsGroup only.
    private const int SecretFileMode = 0x120; // 0440

    public static DesiredState Build(GreenhouseIntegration integration, ResolvedInputs inputs, OperatorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(integration);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(settings);

        var name = integration.Metadata.Name;
        var spec = integration.Spec;
        var usesHarvest = spec.Harvest is not null && inputs.Harvest is not null;
        var replicas = spec.Receiver?.Replicas ?? 1;

        var configMap = ConfigMap(integration, inputs, usesHarvest);
        var deployment = Deployment(integration, inputs, settings, usesHarvest, ConfigHash(configMap));
        return new DesiredState
        {
            WebhookSecret = WebhookSecret(integration, inputs),
            HarvestSecret = usesHarvest ? HarvestSecret(integration, inputs.Harvest!) : null,
            ConfigMap = configMap,
            ServiceAccount = ServiceAccount(integration),
            PersistentVolumeClaim = PersistentVolumeClaim(integration),
            Deployment = deployment,
            Service = Service(integration),
            Ingress = spec.Webhook.Ingress is null ? null : Ingress(integration),
            PodDisruptionBudget = replicas > 1 && !spec.Suspend ? PodDisruptionBudget(integration) : null,
            NetworkPolicy = NetworkPolicy(integration, settings),
        };
    }

    /// <summary>Labels every owned object carries; the first two also select the receiver pods.</summary>
    public static IDictionary<string, string> Labels(string integration) => new Dictionary<string, string>
    {
        [ResourceLabels.Name] = ResourceLabels.ReceiverName,
        [ResourceLabels.Instance] = integration,
        [ResourceLabels.ManagedBy] = ResourceLabels.OperatorName,
    };

    public static IDictionary<string, string> SelectorLabels(string integration) => new Dictionary<string, string>
    {
        [ResourceLabels.Name] = ResourceLabels.ReceiverName,
        [ResourceLabels.Instance] = integration,
    };

    public static V1OwnerReference OwnerReference(GreenhouseIntegration integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        return new V1OwnerReference
        {
            ApiVersion = GreenhouseIntegration.GroupVersion,
            Kind = GreenhouseIntegration.EntityKind,
            Name = integration.Metadata.Name,
            Uid = integration.Metadata.Uid,
            Controller = true,
            BlockOwnerDeletion = true,
        };
    }

    private static V1ObjectMeta Metadata(GreenhouseIntegration integration, string name) => new()
    {
        Name = name,
        NamespaceProperty = integration.Metadata.NamespaceProperty,
        Labels = Labels(integration.Metadata.Name),
        OwnerReferences = [OwnerReference(integration)],
    };

    private static V1ObjectMeta WithAnnotations(V1ObjectMeta metadata, IDictionary<string, string>? annotations)
    {
        if (annotations is { Count: > 0 })
        {
            metadata.Annotations = new Dictionary<string, string>(annotations);
        }

        return metadata;
    }

    private static V1Secret WebhookSecret(GreenhouseIntegration integration, ResolvedInputs inputs)
    {
        var data = new Dictionary<string, byte[]>
        {
            [SecretFileNames.WebhookSecret] = inputs.WebhookSecret.ToArray(),
        };
        if (inputs.PreviousWebhookSecret is { } previous)
        {
            data[SecretFileNames.PreviousWebhookSecret] = previous.ToArray();
        }

        if (inputs.BasicAuth is { } basicAuth)
        {
            data[SecretFileNames.BasicAuthUsername] = basicAuth.Username.ToArray();
            data[SecretFileNames.BasicAuthPassword] = basicAuth.Password.ToArray();
        }

        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = WithAnnotations(Metadata(integration, ReceiverNames.WebhookSecret(integration.Metadata.Name)), inputs.WebhookSecretAnnotations),
            Type = "Opaque",
            Data = data,
        };
    }

    private static V1Secret HarvestSecret(GreenhouseIntegration integration, HarvestCredentials credentials)
    {
        var data = new Dictionary<string, byte[]>
        {
            [SecretFileNames.ClientId] = credentials.ClientId.ToArray(),
            [SecretFileNames.ClientSecret] = credentials.ClientSecret.ToArray(),
        };
        if (credentials.PreviousClientSecret is { } previous)
        {
            data[SecretFileNames.PreviousClientSecret] = previous.ToArray();
        }

        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = Metadata(integration, ReceiverNames.HarvestSecret(integration.Metadata.Name)),
            Type = "Opaque",
            Data = data,
        };
    }

    private static V1ServiceAccount ServiceAccount(GreenhouseIntegration integration) => new()
    {
        ApiVersion = "v1",
        Kind = "ServiceAccount",
        Metadata = Metadata(integration, ReceiverNames.Receiver(integration.Metadata.Name)),
    };

    private static V1ConfigMap ConfigMap(GreenhouseIntegration integration, ResolvedInputs inputs, bool usesHarvest)
    {
        var spec = integration.Spec;
        // Keys are environment variable names (.NET maps "__" to ":"), loaded with envFrom.
        var data = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["Webhook__Path"] = new Uri(spec.Webhook.Endpoint).AbsolutePath,
            ["Webhook__SecretsDirectory"] = WebhookSecretsDirectory,
            ["Harvest__Enabled"] = usesHarvest ? "true" : "false",
            ["Storage__DataDirectory"] = DataDirectory,
            ["Sync__ResyncInterval"] = TimeSpanSetting(spec.Sync?.ResyncInterval ?? "15m"),
            ["Sync__FullResyncInterval"] = TimeSpanSetting(spec.Sync?.FullResyncInterval ?? "24h"),
            ["Api__GrpcPort"] = Invariant(ReceiverPorts.Grpc),
            ["Api__HttpPort"] = Invariant(ReceiverPorts.Http),
            ["Api__BindAddress"] = "0.0.0.0",
            // Callers present ServiceAccount tokens for this receiver's audience (docs/security.md).
            ["Api__Auth__Mode"] = "KubernetesServiceAccount",
            ["Api__Auth__Audience"] = ReceiverNames.ApiAudience(integration.Metadata.NamespaceProperty, integration.Metadata.Name),
        };
        var clients = spec.Api?.Clients ?? [];
        for (var i = 0; i < clients.Count; i++)
        {
            data[$"Api__Clients__{Invariant(i)}__ServiceAccount__Namespace"] = clients[i].ServiceAccount.Namespace;
            data[$"Api__Clients__{Invariant(i)}__ServiceAccount__Name"] = clients[i].ServiceAccount.Name;
            data[$"Api__Clients__{Invariant(i)}__Scopes"] = string.Join(',', clients[i].Scopes);
        }
        if (inputs.BasicAuth is not null)
        {
            data["Webhook__BasicAuthDirectory"] = BasicAuthDirectory;
        }

        if (spec.Webhook.Events is { Count: > 0 } events)
        {
            for (var i = 0; i < events.Count; i++)
            {
                data[$"Webhook__Events__{Invariant(i)}"] = events[i];
            }
        }

        if (usesHarvest)
        {
            var harvest = spec.Harvest!;
            data["Harvest__CredentialsDirectory"] = HarvestCredentialsDirectory;
            data["Harvest__SyncUserId"] = Invariant(harvest.SyncUserId);
            data["Harvest__BaseUrl"] = harvest.BaseUrl ?? "https://harvest.greenhouse.io/v3";
            data["Harvest__TokenUrl"] = harvest.TokenUrl ?? "https://auth.greenhouse.io/token";
        }

        if (spec.Greenhouse?.SsoDomain is { } ssoDomain)
        {
            data[GreenhouseAccountSettings.EnvironmentVariable(GreenhouseAccountSettings.SsoDomain)] = ssoDomain;
        }

        if (spec.Greenhouse?.MaildropEmail is { } maildrop)
        {
            data[GreenhouseAccountSettings.EnvironmentVariable(GreenhouseAccountSettings.MaildropEmail)] = maildrop;
        }

        return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = Metadata(integration, ReceiverNames.Receiver(integration.Metadata.Name)),
            Data = new Dictionary<string, string>(data),
        };
    }

    private static V1PersistentVolumeClaim PersistentVolumeClaim(GreenhouseIntegration integration) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolumeClaim",
        Metadata = Metadata(integration, ReceiverNames.Data(integration.Metadata.Name)),
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            StorageClassName = integration.Spec.Storage?.StorageClassName,
            Resources = new V1VolumeResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = Canonical(integration.Spec.Storage?.Size ?? new ResourceQuantity("1Gi")) },
            },
        },
    };

    private static V1Deployment Deployment(GreenhouseIntegration integration, ResolvedInputs inputs, OperatorSettings settings, bool usesHarvest, string configHash)
    {
        var name = integration.Metadata.Name;
        var spec = integration.Spec;
        var receiver = spec.Receiver;
        var volumes = new List<V1Volume>
        {
            SecretVolume("webhook", ReceiverNames.WebhookSecret(name), SecretFileNames.WebhookSecret, SecretFileNames.PreviousWebhookSecret),
            new() { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = ReceiverNames.Data(name) } },
            new() { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() },
        };
        var mounts = new List<V1VolumeMount>
        {
            new() { Name = "webhook", MountPath = WebhookSecretsDirectory, ReadOnlyProperty = true },
            new() { Name = "data", MountPath = DataDirectory },
            new() { Name = "tmp", MountPath = "/tmp" },
        };
        if (inputs.BasicAuth is not null)
        {
            volumes.Add(SecretVolume("basic-auth", ReceiverNames.WebhookSecret(name), SecretFileNames.BasicAuthUsername, SecretFileNames.BasicAuthPassword));
            mounts.Add(new V1VolumeMount { Name = "basic-auth", MountPath = BasicAuthDirectory, ReadOnlyProperty = true });
        }

        if (usesHarvest)
        {
            volumes.Add(new V1Volume { Name = "harvest", Secret = new V1SecretVolumeSource { SecretName = ReceiverNames.HarvestSecret(name), DefaultMode = SecretFileMode } });
            mounts.Add(new V1VolumeMount { Name = "harvest", MountPath = HarvestCredentialsDirectory, ReadOnlyProperty = true });
        }

        var container = new V1Container
        {
            Name = ContainerName,
            Image = string.IsNullOrEmpty(receiver?.Image) ? settings.ReceiverImage : receiver.Image,
            Args = [$"--urls=http://0.0.0.0:{Invariant(ReceiverPorts.Webhook)}"],
            Ports =
            [
                new V1ContainerPort { Name = "webhook", ContainerPort = ReceiverPorts.Webhook, Protocol = "TCP" },
                new V1ContainerPort { Name = "grpc", ContainerPort = ReceiverPorts.Grpc, Protocol = "TCP" },
                new V1ContainerPort { Name = "http", ContainerPort = ReceiverPorts.Http, Protocol = "TCP" },
            ],
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = ReceiverNames.Receiver(name) } }],
            VolumeMounts = mounts,
            Resources = Resources(receiver?.Resources),
            LivenessProbe = Probe("/healthz", failureThreshold: 3),
            ReadinessProbe = Probe("/readyz", failureThreshold: 2),
            SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false,
                ReadOnlyRootFilesystem = true,
                RunAsNonRoot = true,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
        };

        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Metadata(integration, ReceiverNames.Receiver(name)),
            Spec = new V1DeploymentSpec
            {
                Replicas = spec.Suspend ? 0 : receiver?.Replicas ?? 1,
                Selector = new V1LabelSelector { MatchLabels = SelectorLabels(name) },
                // The data volume is ReadWriteOnce and the receiver locks it: a surge pod could not attach it on
                // another node nor share it on the same one, so the old pod stops before the new one starts
                // (Greenhouse retries deliveries for about 15 hours; acknowledged ones are on the volume).
                Strategy = new V1DeploymentStrategy { Type = "Recreate" },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta
                    {
                        Labels = Labels(name),
                        Annotations = new Dictionary<string, string> { [ResourceAnnotations.ConfigHash] = configHash },
                    },
                    Spec = new V1PodSpec
                    {
                        // The receiver's own ServiceAccount (no role bindings): its token is only used
                        // to fetch the service-account issuer's public keys (API authentication).
                        ServiceAccountName = ReceiverNames.Receiver(name),
                        AutomountServiceAccountToken = true,
                        EnableServiceLinks = false,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            RunAsUser = RunAsUser,
                            RunAsGroup = RunAsUser,
                            FsGroup = RunAsUser,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        Containers = [container],
                        ImagePullSecrets = settings.ReceiverImagePullSecrets.Count > 0
                            ? settings.ReceiverImagePullSecrets.Select(secret => new V1LocalObjectReference { Name = secret }).ToList()
                            : null,
                        Volumes = volumes,
                        NodeSelector = receiver?.NodeSelector is { Count: > 0 } nodeSelector ? new Dictionary<string, string>(nodeSelector) : null,
                        Tolerations = receiver?.Tolerations is { Count: > 0 } tolerations ? tolerations.ToList() : null,
                    },
                },
            },
        };
    }

    private static V1Volume SecretVolume(string volume, string secret, params string[] keys) => new()
    {
        Name = volume,
        Secret = new V1SecretVolumeSource
        {
            SecretName = secret,
            DefaultMode = SecretFileMode,
            Items = keys.Select(k => new V1KeyToPath { Key = k, Path = k }).ToList(),
            // previous_secret_key exists only during an overlap window; optional lets the kubelet skip
            // a missing key instead of failing the mount (the Secret itself is always created first).
            Optional = true,
        },
    };

    private static V1Probe Probe(string path, int failureThreshold) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = "webhook" },
        PeriodSeconds = 10,
        TimeoutSeconds = 2,
        FailureThreshold = failureThreshold,
    };

    private static V1ResourceRequirements Resources(ResourcesSpec? resources)
    {
        var requests = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new("50m"),
            ["memory"] = new("128Mi"),
        };
        var limits = new Dictionary<string, ResourceQuantity>
        {
            ["memory"] = new("512Mi"),
        };
        foreach (var (key, value) in resources?.Requests ?? new Dictionary<string, ResourceQuantity>())
        {
            requests[key] = Canonical(value);
        }

        foreach (var (key, value) in resources?.Limits ?? new Dictionary<string, ResourceQuantity>())
        {
            limits[key] = Canonical(value);
        }

        return new V1ResourceRequirements { Requests = requests, Limits = limits };
    }

    private static V1Service Service(GreenhouseIntegration integration) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Metadata(integration, ReceiverNames.Receiver(integration.Metadata.Name)),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            Selector = SelectorLabels(integration.Metadata.Name),
            Ports =
            [
                new V1ServicePort { Name = "webhook", Port = ReceiverPorts.Webhook, TargetPort = "webhook", Protocol = "TCP" },
                new V1ServicePort { Name = "grpc", Port = ReceiverPorts.Grpc, TargetPort = "grpc", Protocol = "TCP", AppProtocol = "kubernetes.io/h2c" },
                new V1ServicePort { Name = "http", Port = ReceiverPorts.Http, TargetPort = "http", Protocol = "TCP" },
            ],
        },
    };

    private static V1Ingress Ingress(GreenhouseIntegration integration)
    {
        var ingress = integration.Spec.Webhook.Ingress!;
        var endpoint = new Uri(integration.Spec.Webhook.Endpoint);
        var metadata = Metadata(integration, ReceiverNames.Receiver(integration.Metadata.Name));
        if (ingress.Annotations is { Count: > 0 } annotations)
        {
            metadata.Annotations = new Dictionary<string, string>(annotations);
        }

        return new V1Ingress
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "Ingress",
            Metadata = metadata,
            Spec = new V1IngressSpec
            {
                IngressClassName = ingress.ClassName,
                Tls = ingress.TlsSecretName is null ? null : [new V1IngressTLS { Hosts = [endpoint.Host], SecretName = ingress.TlsSecretName }],
                Rules =
                [
                    new V1IngressRule
                    {
                        Host = endpoint.Host,
                        Http = new V1HTTPIngressRuleValue
                        {
                            // Only the webhook path is public; /healthz, /readyz and the internal ports are not routed.
                            Paths =
                            [
                                new V1HTTPIngressPath
                                {
                                    Path = endpoint.AbsolutePath,
                                    PathType = "Exact",
                                    Backend = new V1IngressBackend
                                    {
                                        Service = new V1IngressServiceBackend
                                        {
                                            Name = ReceiverNames.Receiver(integration.Metadata.Name),
                                            Port = new V1ServiceBackendPort { Name = "webhook" },
                                        },
                                    },
                                },
                            ],
                        },
                    },
                ],
            },
        };
    }

    private static V1PodDisruptionBudget PodDisruptionBudget(GreenhouseIntegration integration) => new()
    {
        ApiVersion = "policy/v1",
        Kind = "PodDisruptionBudget",
        Metadata = Metadata(integration, ReceiverNames.Receiver(integration.Metadata.Name)),
        Spec = new V1PodDisruptionBudgetSpec
        {
            MaxUnavailable = 1,
            Selector = new V1LabelSelector { MatchLabels = SelectorLabels(integration.Metadata.Name) },
        },
    };

    private static V1NetworkPolicy NetworkPolicy(GreenhouseIntegration integration, OperatorSettings settings)
    {
        var internalClients = new List<V1NetworkPolicyPeer>
        {
            new()
            {
                NamespaceSelector = NamespaceSelector(settings.Namespace),
                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [ResourceLabels.Name] = ResourceLabels.OperatorName } },
            },
        };
        internalClients.AddRange(settings.ApiClientNamespaces.Select(ns => new V1NetworkPolicyPeer { NamespaceSelector = NamespaceSelector(ns) }));

        var policy = new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = Metadata(integration, ReceiverNames.Receiver(integration.Metadata.Name)),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = SelectorLabels(integration.Metadata.Name) },
                PolicyTypes = ["Ingress"],
                Ingress =
                [
                    // Greenhouse posts from the internet through the ingress controller.
                    new V1NetworkPolicyIngressRule { Ports = [new V1NetworkPolicyPort { Port = ReceiverPorts.Webhook, Protocol = "TCP" }] },
                    new V1NetworkPolicyIngressRule
                    {
                        FromProperty = internalClients,
                        Ports =
                        [
                            new V1NetworkPolicyPort { Port = ReceiverPorts.Grpc, Protocol = "TCP" },
                            new V1NetworkPolicyPort { Port = ReceiverPorts.Http, Protocol = "TCP" },
                        ],
                    },
                ],
            },
        };
        if (ScrapePeers(settings) is { } scrapers)
        {
            // Prometheus (Operator:ScrapeNamespaces / ScrapePodLabels) reaches the HTTP port (/metrics) only, not gRPC.
            policy.Spec.Ingress.Add(new V1NetworkPolicyIngressRule { FromProperty = scrapers, Ports = [new V1NetworkPolicyPort { Port = ReceiverPorts.Http, Protocol = "TCP" }] });
        }

        return policy;
    }

    private static List<V1NetworkPolicyPeer>? ScrapePeers(OperatorSettings settings)
    {
        if (settings.ScrapeNamespaces.Count == 0 && settings.ScrapePodLabels.Count == 0)
        {
            return null;
        }

        var pods = settings.ScrapePodLabels.Count == 0
            ? null
            : new V1LabelSelector
            {
                MatchLabels = settings.ScrapePodLabels
                    .Select(l => l.Split('=', 2))
                    .ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal),
            };
        return settings.ScrapeNamespaces.Count == 0
            ? [new V1NetworkPolicyPeer { NamespaceSelector = new V1LabelSelector(), PodSelector = pods }]
            : settings.ScrapeNamespaces.Select(ns => new V1NetworkPolicyPeer { NamespaceSelector = NamespaceSelector(ns), PodSelector = pods }).ToList();
    }

    private static V1LabelSelector NamespaceSelector(string ns) =>
        new() { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = ns } };

    /// <summary>SHA-256 over the ConfigMap data: a change of receiver settings rolls the pods.</summary>
    private static string ConfigHash(V1ConfigMap configMap)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in configMap.Data.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(key).Append('=').Append(value).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    // The API server stores quantities in canonical form ("0.5" becomes "500m"); writing the same form
    // keeps the comparison with the stored object exact, so a user's spelling never causes endless updates.
    private static ResourceQuantity Canonical(ResourceQuantity quantity) => new(quantity.CanonicalizeString());

    private static string TimeSpanSetting(string goDuration) =>
        GoDuration.Parse(goDuration).ToString("c", CultureInfo.InvariantCulture);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
