using System.Net;
using ControllerRuntime;
using Greenhouse.Operator;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Crds;
using Greenhouse.Operator.Reconciliation;
using k8s;
using Microsoft.Extensions.Options;
using Prometheus;

if (args is ["crds", .. var rest])
{
    return CrdCommand.Run(rest, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddOptions<OperatorSettings>()
    .Bind(builder.Configuration.GetSection(OperatorSettings.SectionName))
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<OperatorSettings>, OperatorSettingsValidator>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(_ => new ControllerMetrics(Metrics.DefaultFactory));
builder.Services.AddSingleton(_ => new OperatorMetrics(Metrics.DefaultFactory));
builder.Services.AddSingleton<IKubernetes>(sp =>
{
    var config = KubernetesClientConfiguration.IsInCluster()
        ? KubernetesClientConfiguration.InClusterConfig()
        : KubernetesClientConfiguration.BuildConfigFromConfigFile();
    return new Kubernetes(config, new ApiRequestMetricsHandler(sp.GetRequiredService<ControllerMetrics>()));
});
builder.Services.AddSingleton(sp => new GreenhouseOperator(
    sp.GetRequiredService<IKubernetes>(),
    sp.GetRequiredService<IOptions<OperatorSettings>>().Value,
    sp.GetRequiredService<TimeProvider>(),
    sp.GetRequiredService<ILoggerFactory>(),
    sp.GetRequiredService<ControllerMetrics>(),
    sp.GetRequiredService<OperatorMetrics>()));
builder.Services.AddHostedService<OperatorService>();

var listen = builder.Configuration.GetSection(OperatorSettings.SectionName).Get<OperatorSettings>() ?? new OperatorSettings();
builder.WebHost.ConfigureKestrel(kestrel =>
    kestrel.Listen(IPAddress.TryParse(listen.BindAddress, out var address) ? address : IPAddress.Any, listen.MetricsPort));

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapGet("/readyz", (GreenhouseOperator op) => op.Manager.HasSynced
    ? Results.Text("ok")
    : Results.Text("caches not synced", statusCode: StatusCodes.Status503ServiceUnavailable));
app.MapMetrics("/metrics");

try
{
    await app.RunAsync().ConfigureAwait(false);
    return 0;
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("Invalid configuration: " + string.Join(" ", ex.Failures)).ConfigureAwait(false);
    return 1;
}
