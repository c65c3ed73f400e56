using System.Net;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Api;
using Greenhouse.Receiver.Api.Auth;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Processing;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Sync;
using Greenhouse.Receiver.Webhooks;
using Greenhouse.Receiver.Writeback;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Greenhouse.Receiver;

/// <summary>Builds the receiver: three listeners (public webhook, internal gRPC, internal HTTP) over one set of services.</summary>
public static partial class ReceiverApplication
{
    /// <summary>
    /// Builds the app from command-line style arguments. Throws <see cref="ReceiverConfigurationException"/>
    /// for a missing or invalid setting. <paramref name="configureServices"/> lets tests replace
    /// services (a <see cref="TimeProvider"/>, an <see cref="ICandidateHydrator"/>).
    /// </summary>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        // --urls is the public listener only; Kestrel gets it through the explicit listeners below
        // (given to the host as well, Kestrel would warn that the explicit listeners override it).
        var urls = new ConfigurationBuilder().AddEnvironmentVariables("ASPNETCORE_").AddCommandLine(args).Build()[WebHostDefaults.ServerUrlsKey];
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = WithoutUrls(args) });
        // Lowest-priority defaults: one log line per request would drown what matters (and cost
        // time on the ingest path); any configuration source can still turn them back on. Hosting's
        // own category writes only per-request lines (Information and Debug), and while its logger is
        // enabled at any level ASP.NET Core starts an Activity, and sets it as the async-local current
        // one, for every request: off by default, it costs nothing per delivery.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData =
            [
                new("Logging:LogLevel:Default", "Information"), new("Logging:LogLevel:Microsoft.AspNetCore", "Warning"),
                new("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "None"),
            ],
        });
        var options = ReceiverOptionsLoader.Load(new ConfigurationBuilder()
            .AddConfiguration(builder.Configuration)
            .AddInMemoryCollection([new(WebHostDefaults.ServerUrlsKey, urls)])
            .Build());
        // JSON lines: a value (an unsigned header, an error message) can never start a line of its own
        // or carry terminal escape sequences, whatever characters it holds.
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(json =>
        {
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        var connections = new PublicConnectionLimit(options.MaxConnections);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The webhook path enforces Webhook:MaxBodyBytes itself (chunked bodies included); this
            // is the ceiling for the internal JSON API's bodies (write-back notes).
            kestrel.Limits.MaxRequestBodySize = Math.Max(options.MaxBodyBytes + 1, 4 * 1024 * 1024);
            // Headers of an anonymous request: Greenhouse sends a handful; a ServiceAccount token is ~1-2 KB.
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 50;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.RequestHeadersTimeout = options.BodyReadTimeout;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
            foreach (var url in options.PublicUrls)
            {
                Listen(kestrel, url.Host, url.Port, HttpProtocols.Http1, connections);
            }
            kestrel.Listen(options.BindAddress, options.GrpcPort, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(options.BindAddress, options.HttpPort, listen => listen.Protocols = HttpProtocols.Http1);
        });

        var services = builder.Services;
        services.AddSingleton(_ => DataDirectoryLock.Acquire(options.DataDirectory));
        services.AddSingleton(options);
        services.AddSingleton(connections);
        services.AddSingleton(new UnverifiedBodyBudget(options.MaxUnverifiedBytes));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ReceiverMetrics>();
        services.AddSingleton<CandidateRecordReader>();
        services.AddSingleton<ICandidateRecordReader>(sp => sp.GetRequiredService<CandidateRecordReader>());
        services.AddSingleton<CandidateMirror>();
        services.AddSingleton<InboxStatistics>();
        services.AddSingleton<WebhookSecretsDirectory>();
        services.AddSingleton<WebhookInbox>();
        services.AddSingleton<TombstoneStore>();
        services.AddSingleton<InboxStore>();
        services.AddSingleton<HydrationQueueStore>();
        services.AddSingleton<DatabaseMaintenance>();
        services.AddSingleton<MirrorStore>();
        services.AddSingleton<EventProcessor>();
        services.AddSingleton<WebhookIngestEndpoint>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookSecretsDirectory>());
        services.AddHostedService(sp => sp.GetRequiredService<WebhookInbox>());
        services.AddHostedService(sp => sp.GetRequiredService<EventProcessor>());
        services.AddSingleton<SyncStatus>();
        if (options.Harvest is { } harvest)
        {
            AddHarvestSync(services, harvest);
        }
        services.AddSingleton(options.ApiAuth);
        services.AddGrpc(grpc =>
        {
            if (options.ApiAuth.Mode != ApiAuthMode.None)
            {
                grpc.Interceptors.Add<ApiAuthorizationInterceptor>();
            }
        }).AddJsonTranscoding();
        if (options.ApiAuth.Mode != ApiAuthMode.None)
        {
            services.AddSingleton<ServiceAccountTokenValidator>();
        }
        configureServices?.Invoke(services);

        var app = builder.Build();
        // Before anything opens the database: a second receiver on the same volume stops here.
        _ = app.Services.GetRequiredService<DataDirectoryLock>();
        var metrics = app.Services.GetRequiredService<ReceiverMetrics>();
        var statistics = app.Services.GetRequiredService<InboxStatistics>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            if (statistics.Read() is { } snapshot)
            {
                metrics.InboxPending.Set(snapshot.Pending);
                metrics.DeadLetters.Set(snapshot.DeadLetters);
                metrics.OldestPendingAge.Set(snapshot.OldestPendingAt is { } oldest ? Math.Max(0, (time.GetUtcNow() - oldest).TotalSeconds) : 0);
            }
        });

        if (options.Harvest is not null)
        {
            // Created now so Harvest calls are counted from the first one.
            _ = app.Services.GetRequiredService<HarvestMetrics>();
        }

        if (options.ApiAuth.Mode == ApiAuthMode.None)
        {
            LogApiAuthOff(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ReceiverApplication)), options.GrpcPort, options.HttpPort);
        }

        app.Use((context, next) => ListenerAllows(context, options) ? next(context) : NotFound(context));

        var ingest = app.Services.GetRequiredService<WebhookIngestEndpoint>();
        app.MapPost(options.WebhookPath, ingest.HandleAsync);
        app.MapMethods(options.WebhookPath, ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], ingest.RejectMethodAsync);
        app.MapGet("/healthz", () => Results.Text("ok"));
        var inbox = app.Services.GetRequiredService<WebhookInbox>();
        inbox.GroupCommitted += metrics.RecordInboxCommit;
        inbox.Synced += metrics.RecordInboxSync;
        var mirror = app.Services.GetRequiredService<MirrorStore>();
        app.MapGet("/readyz", () => inbox.IsHealthy && mirror.IsLoaded
            ? Results.Text("ready")
            : Results.Text("not ready: the inbox database cannot be written", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGrpcService<CandidatesApi>();
        app.MapGrpcService<SyncHealthApi>();
        app.MapGrpcService<IntegrationApi>();
        if (options.Harvest is not null)
        {
            app.MapGrpcService<WritebackApi>();
        }
        app.MapMetrics("/metrics", metrics.Registry);
        return app;
    }

    private static void AddHarvestSync(IServiceCollection services, HarvestSyncOptions harvest)
    {
        services.AddSingleton<HarvestCredentialsDirectory>();
        services.AddSingleton<IHarvestCredentialSource>(sp => sp.GetRequiredService<HarvestCredentialsDirectory>());
        services.AddHostedService(sp => sp.GetRequiredService<HarvestCredentialsDirectory>());
        services.AddGreenhouseHarvest(o =>
        {
            o.BaseUrl = harvest.BaseUrl;
            o.TokenUrl = harvest.TokenUrl;
            o.SyncUserId = harvest.SyncUserId;
        });
        services.AddSingleton<HarvestMetrics>();
        services.TryAddSingleton<ICandidateHydrator, HarvestCandidateHydrator>();
        services.AddSingleton<HydrationWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<HydrationWorker>());
        services.AddSingleton<WritebackOutbox>();
        services.AddSingleton<SweepService>();
        services.AddHostedService(sp => sp.GetRequiredService<SweepService>());
    }

    private static string[] WithoutUrls(string[] args)
    {
        var kept = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--urls" or "/urls")
            {
                i++;
            }
            else if (!args[i].StartsWith("--urls=", StringComparison.Ordinal) && !args[i].StartsWith("/urls=", StringComparison.Ordinal))
            {
                kept.Add(args[i]);
            }
        }
        return [.. kept];
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port, HttpProtocols protocols, PublicConnectionLimit connections)
    {
        Action<ListenOptions> configure = listen =>
        {
            listen.Protocols = protocols;
            listen.Use(connections.Wrap);
        };
        if (IPAddress.TryParse(host, out var address))
        {
            kestrel.Listen(address, port, configure);
        }
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(port, configure);
        }
        else
        {
            kestrel.ListenAnyIP(port, configure);
        }
    }

    /// <summary>
    /// Each listener serves only its own surface: the public port the webhook and probes, the gRPC
    /// port gRPC, the internal HTTP port /metrics and the JSON transcoding (/v1/...).
    /// </summary>
    private static bool ListenerAllows(HttpContext context, ReceiverOptions options)
    {
        var port = context.Connection.LocalPort;
        var path = context.Request.Path;
        var grpc = context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
        if (port == options.GrpcPort)
        {
            return grpc;
        }
        if (port == options.HttpPort)
        {
            return !grpc && (path == "/metrics" || path.StartsWithSegments("/v1", StringComparison.Ordinal));
        }
        return path == options.WebhookPath || path == "/healthz" || path == "/readyz";
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Api:Auth:Mode is None: the candidate APIs on ports {GrpcPort} and {HttpPort} answer every caller without authentication. For local development only; never run a receiver like this in a cluster")]
    private static partial void LogApiAuthOff(ILogger logger, int grpcPort, int httpPort);
}
