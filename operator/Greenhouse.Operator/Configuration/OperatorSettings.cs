using System.ComponentModel.DataAnnotations;

namespace Greenhouse.Operator.Configuration;

/// <summary>Operator settings (configuration section <c>Operator</c>), validated at start-up.</summary>
public sealed record OperatorSettings
{
    public const string SectionName = "Operator";

    /// <summary>Namespaces to watch; empty watches all namespaces.</summary>
    public IList<string> WatchNamespaces { get; init; } = [];

    /// <summary>Integrations reconciled at the same time.</summary>
    [Range(1, 64)]
    public int Concurrency { get; init; } = 4;

    /// <summary>Receiver image used when an integration does not name one.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "is required; set it to the receiver image integrations run when they name none (env Operator__ReceiverImage).")]
    public string ReceiverImage { get; init; } = "";

    /// <summary>Image pull Secrets (names) the receiver pods use; each must exist in every integration's namespace.</summary>
    public IList<string> ReceiverImagePullSecrets { get; init; } = [];

    /// <summary>Namespace the operator runs in; its pods may reach the receivers' internal ports.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Namespace { get; init; } = "greenhouse-system";

    /// <summary>Namespaces (besides the operator's) allowed to reach receivers' gRPC and metrics ports, e.g. monitoring.</summary>
    public IList<string> ApiClientNamespaces { get; init; } = [];

    /// <summary>Namespaces whose pods (or those matching <see cref="ScrapePodLabels"/>) may scrape the receivers' metrics port; empty with labels set means any namespace.</summary>
    public IList<string> ScrapeNamespaces { get; init; } = [];

    /// <summary>Labels (<c>key=value</c>) of the Prometheus pods admitted to the receivers' metrics port; empty admits every pod of <see cref="ScrapeNamespaces"/>.</summary>
    public IList<string> ScrapePodLabels { get; init; } = [];
    /// <summary>
    /// Ingress annotations an integration may set (exact keys, or prefixes ending in <c>*</c>); any
    /// other stops the integration with IngressAnnotationNotAllowed. Empty: none. Annotations such as
    /// ingress-nginx snippets would let a namespace user configure the shared ingress controller.
    /// </summary>
    public IList<string> IngressAnnotationAllowList { get; init; } = [];

    /// <summary>
    /// Image prefixes <c>spec.receiver.image</c> may use (a registry or repository, e.g. <c>registry.example/</c>).
    /// Empty: only tags or digests of the repository of <see cref="ReceiverImage"/>.
    /// </summary>
    public IList<string> AllowedImagePrefixes { get; init; } = [];

    /// <summary>Every cached object is reconciled again after this period, even without a change.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often each ready receiver pod's SyncHealth is polled (each round is jittered by up to 10 %).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan HealthPollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Deadline of one SyncHealth call; a pod that does not answer in time counts as unreachable.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan HealthPollTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>SyncHealth calls in flight at once.</summary>
    [Range(1, 256)]
    public int HealthPollConcurrency { get; init; } = 16;

    /// <summary>Status changes that only move counters, times or lag are written at most this often per integration.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StatusWriteInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Rejected or unverifiable Harvest credentials are tried again after this long (sooner when the Secret changes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan HarvestValidationRetry { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Harvest credentials that worked are checked again (one token request) after this long.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan HarvestValidationInterval { get; init; } = TimeSpan.FromHours(1);

    public LeaderElectionSettings LeaderElection { get; init; } = new();

    /// <summary>Port of /healthz, /readyz and /metrics.</summary>
    [Range(1, 65535)]
    public int MetricsPort { get; init; } = 8080;

    /// <summary>Address the metrics and probe listener binds to.</summary>
    [Required(AllowEmptyStrings = false)]
    public string BindAddress { get; init; } = "0.0.0.0";
}
