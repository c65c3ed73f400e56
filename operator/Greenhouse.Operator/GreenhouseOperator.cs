using ControllerRuntime;
using Greenhouse.Operator.Api;
using Greenhouse.Harvest;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Health;
using Greenhouse.Operator.Reconciliation;
using k8s;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Operator;

/// <summary>
/// Composition of the operator: caches, the integration controller with its event mappings, leader
/// election and the manager that runs them. The web host (probes, metrics) sits around it.
/// </summary>
public sealed class GreenhouseOperator : IDisposable
{
    public const string ControllerName = "greenhouseintegration";

    private readonly Controller _controller;
    private readonly GrpcReceiverHealthClient? _grpcHealth;
    private readonly HttpClient? _tokenHttp;
    private readonly HttpClient _harvestHttp = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public GreenhouseOperator(IKubernetes client, OperatorSettings settings, TimeProvider timeProvider, ILoggerFactory loggers, ControllerMetrics metrics, OperatorMetrics operatorMetrics,
        OperatorDependencies? dependencies = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(operatorMetrics);
        var informerOptions = new InformerOptions { ResyncPeriod = settings.ResyncPeriod };
        Caches = new OperatorCaches(client, [.. settings.WatchNamespaces], informerOptions, timeProvider, loggers, metrics);
        var events = new EventRecorder(client, Greenhouse.Contracts.ResourceLabels.OperatorName, timeProvider, loggers.CreateLogger<EventRecorder>());
        IReceiverHealthClient healthClient = dependencies?.HealthClient ?? (_grpcHealth = new GrpcReceiverHealthClient());
        HealthPoller = new HealthPoller(client, Caches, healthClient, settings, timeProvider, loggers.CreateLogger<HealthPoller>());
        var tokenCheck = dependencies?.HarvestTokenCheck;
        if (tokenCheck is null)
        {
            _tokenHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            tokenCheck = new HarvestTokenCheck(_tokenHttp).CheckAsync;
        }

        HarvestValidator = new HarvestCredentialValidator(tokenCheck, timeProvider, settings.HarvestValidationInterval, settings.HarvestValidationRetry);
        Registrar = new GreenhouseWebhookRegistrar(new HarvestWebhookClient(_harvestHttp, timeProvider), timeProvider, settings.HarvestValidationRetry);
        var reconciler = new IntegrationReconciler(client, Caches, settings, events, timeProvider, loggers.CreateLogger<IntegrationReconciler>(), operatorMetrics, HealthPoller, HarvestValidator, Registrar);
        // With leader election, reconciles in flight must end before another replica can take the lease
        // (LeaseDuration - RenewDeadline after this one stopped renewing).
        var grace = settings.LeaderElection.Enabled
            ? settings.LeaderElection.LeaseDuration - settings.LeaderElection.RenewDeadline
            : TimeSpan.FromSeconds(10);
        _controller = new Controller(ControllerName, reconciler, new ControllerOptions { Concurrency = settings.Concurrency, ShutdownGrace = grace }, timeProvider, loggers.CreateLogger<Controller>(), metrics);

        foreach (var informer in Caches.Integrations.Informers)
        {
            _controller.For(informer);
        }

        OwnAll(Caches.ConfigMaps);
        OwnAll(Caches.ServiceAccounts);
        OwnAll(Caches.PersistentVolumeClaims);
        OwnAll(Caches.Deployments);
        OwnAll(Caches.Services);
        OwnAll(Caches.Ingresses);
        OwnAll(Caches.PodDisruptionBudgets);
        OwnAll(Caches.NetworkPolicies);

        // The operator's own Secrets enqueue their owner; a referenced Secret every integration referencing it.
        OwnAll(Caches.Secrets);
        Caches.ReferencedSecrets.AddHandler(e =>
        {
            foreach (var integration in Caches.Integrations.ByIndex(OperatorCaches.SecretReferenceIndex, $"{e.Current.Metadata.NamespaceProperty}/{e.Current.Metadata.Name}"))
            {
                _controller.Queue.Add(ObjectKey.Of(integration));
            }
        });

        LeaderElection? election = null;
        if (settings.LeaderElection.Enabled)
        {
            election = new LeaderElection(client, new LeaderElectionOptions
            {
                LeaseNamespace = settings.LeaderElection.LeaseNamespace ?? settings.Namespace,
                LeaseName = settings.LeaderElection.LeaseName,
                Identity = string.IsNullOrEmpty(settings.LeaderElection.Identity) ? Environment.MachineName : settings.LeaderElection.Identity,
                LeaseDuration = settings.LeaderElection.LeaseDuration,
                RenewDeadline = settings.LeaderElection.RenewDeadline,
                RetryPeriod = settings.LeaderElection.RetryPeriod,
            }, loggers.CreateLogger<LeaderElection>(), metrics);
            // Integration series come from the replica that reconciles; a replica that stops leading drops them.
            election.LeadershipChanged += (_, leading) =>
            {
                if (!leading)
                {
                    operatorMetrics.Clear();
                }
            };
        }
        else
        {
            // The only replica reconciles: it is the leader for "no leader anywhere" alerts.
            metrics.LeaderStatus.WithLabels(settings.LeaderElection.LeaseName).Set(1);
        }

        Manager = new ControllerManager(loggers.CreateLogger<ControllerManager>(), election, metrics);
        foreach (var informer in Caches.All)
        {
            Manager.Add(informer);
        }

        Manager.Add(_controller);
        // A summary that says something new reconciles its integration (and only then).
        HealthPoller.Changed += key => _controller.Queue.Add(key);
    }

    public HealthPoller HealthPoller { get; }

    public HarvestCredentialValidator HarvestValidator { get; }

    /// <summary>Registers webhooks in Greenhouse for integrations with spec.webhook.registration HarvestApi.</summary>
    public GreenhouseWebhookRegistrar Registrar { get; }

    public OperatorCaches Caches { get; }

    public ControllerManager Manager { get; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // The poller lives as long as the manager (which ends on cancellation or a failure).
        using var pollerStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var polling = HealthPoller.RunAsync(() => Manager.IsLeader && Manager.HasSynced, pollerStop.Token);
        try
        {
            await Manager.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await pollerStop.CancelAsync().ConfigureAwait(false);
            await polling.ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _controller.Dispose();
        _grpcHealth?.Dispose();
        _tokenHttp?.Dispose();
        _harvestHttp.Dispose();
    }

    private void OwnAll<T>(InformerSet<T> set)
        where T : class, IKubernetesObject<k8s.Models.V1ObjectMeta>
    {
        foreach (var informer in set.Informers)
        {
            _controller.Owns(informer, GreenhouseIntegration.GroupVersion, GreenhouseIntegration.EntityKind);
        }
    }
}
