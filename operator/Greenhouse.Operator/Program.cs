using System.Net;
using ControllerRuntime;
using Greenhouse.Operator;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Crds;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Exceptions;
using Prometheus;

if (args is ["crds", .. var rest])
{
    return CrdCommand.Run(rest, Console.Out, Console.Error);
}

var builder = WebApplication.CreateSlimBuilder(args);

// Configuration errors stop start-up with one line, before anything connects anywhere.
var (settings, failures) = OperatorSettingsLoader.Load(builder.Configuration);
if (settings is null)
{
    await Console.Error.WriteLineAsync("Invalid configuration: " + string.Join(" ", failures)).ConfigureAwait(false);
    return 1;
}

KubernetesClientConfiguration kubernetesConfig;
try
{
    var kubeconfigPath = Environment.GetEnvironmentVariable("KUBECONFIG");
    kubernetesConfig = !string.IsNullOrEmpty(kubeconfigPath)
        ? Kubeconfig.Load(kubeconfigPath)
        : KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile();
}
catch (KubeConfigException ex)
{
    await Console.Error.WriteLineAsync($"No Kubernetes connection: {ex.Message}; run in a cluster or set KUBECONFIG.").ConfigureAwait(false);
    return 1;
}

var controllerMetrics = new ControllerMetrics(Metrics.DefaultFactory);
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(controllerMetrics);
builder.Services.AddSingleton(_ => new OperatorMetrics(Metrics.DefaultFactory));
builder.Services.AddSingleton<IKubernetes>(_ => new Kubernetes(kubernetesConfig, new ApiRequestMetricsHandler(controllerMetrics)));
builder.Services.AddSingleton(sp => new GreenhouseOperator(
    sp.GetRequiredService<IKubernetes>(),
    settings,
    sp.GetRequiredService<TimeProvider>(),
    sp.GetRequiredService<ILoggerFactory>(),
    controllerMetrics,
    sp.GetRequiredService<OperatorMetrics>()));
builder.Services.AddHostedService<OperatorService>();
builder.WebHost.ConfigureKestrel(kestrel =>
    kestrel.Listen(IPAddress.TryParse(settings.BindAddress, out var address) ? address : IPAddress.Any, settings.MetricsPort));

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapGet("/readyz", (GreenhouseOperator op) => op.Manager switch
{
    { HasSynced: false } => Results.Text("caches not synced", statusCode: StatusCodes.Status503ServiceUnavailable),
    { FailedInformers: { Count: > 0 } failed } => Results.Text($"informers restarting after an error: {string.Join(", ", failed)}", statusCode: StatusCodes.Status503ServiceUnavailable),
    _ => Results.Text("ok"),
});
app.MapMetrics("/metrics");
await app.RunAsync().ConfigureAwait(false);
return 0;
