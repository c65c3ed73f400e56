using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace Greenhouse.Harvest;

/// <summary>Registers <see cref="IHarvestClient"/> on <see cref="IHttpClientFactory"/>.</summary>
public static class HarvestServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IHarvestClient"/>, <see cref="HarvestStatus"/> and the process-wide token cache and rate
    /// limiter. Register an <see cref="IHarvestCredentialSource"/> as well (e.g. <see cref="StaticHarvestCredentialSource"/>).
    /// The pipeline per call: total timeout, jittered retries of 5xx and network errors (GET/PUT/DELETE
    /// always; POST/PATCH only when the connection could not be opened), bearer token with one retry on 401,
    /// rate-limit permit and 429 handling, attempt timeout.
    /// </summary>
    /// <returns>The builder of the Harvest HTTP client, e.g. to replace the primary handler in tests.</returns>
    public static IHttpClientBuilder AddGreenhouseHarvest(this IServiceCollection services, Action<HarvestOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<HarvestOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HarvestOptions>, HarvestOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<HarvestStatus>();
        services.TryAddSingleton<HarvestRateLimiter>();
        services.TryAddSingleton<HarvestTokenCache>();
        services.TryAddTransient<HarvestAuthenticationHandler>();
        services.TryAddTransient<HarvestRateLimitHandler>();

        services.AddHttpClient(HarvestTokenCache.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("harvest-token", (pipeline, context) =>
                Configure(pipeline, context.ServiceProvider.GetRequiredService<IOptions<HarvestOptions>>().Value, retryUnsafeMethods: true));

        var harvest = services.AddHttpClient<IHarvestClient, HarvestClient>(client => client.Timeout = Timeout.InfiniteTimeSpan);
        harvest.AddResilienceHandler("harvest", (pipeline, context) =>
            Configure(pipeline, context.ServiceProvider.GetRequiredService<IOptions<HarvestOptions>>().Value, retryUnsafeMethods: false));
        return harvest
            .AddHttpMessageHandler<HarvestAuthenticationHandler>()
            .AddHttpMessageHandler<HarvestRateLimitHandler>();
    }

    private static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, HarvestOptions options, bool retryUnsafeMethods)
    {
        pipeline.AddTimeout(options.TotalTimeout);
        if (options.MaxTransientRetries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxTransientRetries,
                Delay = options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                // 429 and its Retry-After belong to the rate limiter, which has already waited.
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome, args.Context.GetRequestMessage()?.Method, retryUnsafeMethods)),
            });
        }
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome, HttpMethod? method, bool retryUnsafeMethods)
    {
        // A POST whose answer was lost may have been applied: only retry it when it provably never left.
        var safe = retryUnsafeMethods || method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Options;
        return outcome switch
        {
            { Exception: HttpRequestException e } => safe || e.HttpRequestError == HttpRequestError.ConnectionError,
            { Exception: TimeoutException or TimeoutRejectedException } => safe,
            { Result: { } response } => safe && ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.RequestTimeout),
            _ => false,
        };
    }
}
