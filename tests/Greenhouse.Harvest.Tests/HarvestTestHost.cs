using Microsoft.Extensions.DependencyInjection;
using Sandbox.Greenhouse;

namespace Greenhouse.Harvest.Tests;

/// <summary>Builds the client exactly as an application would (DI + IHttpClientFactory), against a scripted handler or the simulator.</summary>
internal sealed class HarvestTestHost : IDisposable
{
    private readonly ServiceProvider provider;

    private HarvestTestHost(ServiceProvider provider, StaticHarvestCredentialSource credentials)
    {
        this.provider = provider;
        Credentials = credentials;
    }

    public IHarvestClient Client => provider.GetRequiredService<IHarvestClient>();

    public StaticHarvestCredentialSource Credentials { get; }

    public HarvestStatus Status => provider.GetRequiredService<HarvestStatus>();

    public static HarvestTestHost ForHandler(ScriptedHandler handler, Action<HarvestOptions>? configure = null, TimeProvider? time = null, HarvestCredentials? credentials = null) =>
        Build(new Uri("https://harvest.test/v3"), new Uri("https://auth.test/token"), credentials ?? new HarvestCredentials("id", "secret"), configure, handler, time);

    public static HarvestTestHost ForSimulator(GreenhouseSimulator simulator, Action<HarvestOptions>? configure = null, HarvestCredentials? credentials = null) =>
        Build(simulator.HarvestBaseUrl, simulator.TokenUrl, credentials ?? new HarvestCredentials(simulator.DefaultClient.ClientId, simulator.DefaultClient.ClientSecret), o =>
        {
            o.SyncUserId = simulator.SyncUserId;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            configure?.Invoke(o);
        }, null, null);

    public void Dispose() => provider.Dispose();

    private static HarvestTestHost Build(Uri baseUrl, Uri tokenUrl, HarvestCredentials credentials, Action<HarvestOptions>? configure, HttpMessageHandler? handler, TimeProvider? time)
    {
        var services = new ServiceCollection();
        var source = new StaticHarvestCredentialSource(credentials);
        services.AddLogging();
        services.AddSingleton<IHarvestCredentialSource>(source);
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddGreenhouseHarvest(o =>
        {
            o.BaseUrl = baseUrl;
            o.TokenUrl = tokenUrl;
            o.SyncUserId = 4080;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
            configure?.Invoke(o);
        });
        if (handler is not null)
        {
            services.ConfigureHttpClientDefaults(b => b.ConfigurePrimaryHttpMessageHandler(() => handler).SetHandlerLifetime(Timeout.InfiniteTimeSpan));
        }

        return new HarvestTestHost(services.BuildServiceProvider(), source);
    }
}
