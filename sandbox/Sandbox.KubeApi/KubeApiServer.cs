using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sandbox.KubeApi;

/// <summary>
/// An in-process Kubernetes API server emulator for tests and the local sandbox. It listens on
/// 127.0.0.1 only, over plain HTTP, without authentication: a test harness, never a production dependency.
/// </summary>
public sealed class KubeApiServer : IAsyncDisposable
{
    private static readonly string[] InitialNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];
    private readonly WebApplication _app;
    private readonly ObjectStore _store;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _controllers;
    private int _disposed;

    private readonly PodLogStreamer _logs;

    private KubeApiServer(WebApplication app, ObjectStore store, RequestLog requests, FaultInjector faults, Uri baseAddress, BuiltinControllers controllers, PodLogStreamer logs)
    {
        _app = app;
        _logs = logs;
        _store = store;
        Requests = requests;
        Faults = faults;
        BaseAddress = baseAddress;
        KubeconfigYaml = BuildKubeconfig(baseAddress);
        _controllers = Task.Run(() => controllers.RunAsync(_stopping.Token));
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseAddress { get; }

    /// <summary>
    /// A kubeconfig with cluster, user and context "sandbox" (plain HTTP, namespace default). The server does not
    /// authenticate; the user carries the placeholder token "sandbox-no-auth" only because KubernetesClient refuses
    /// a user without credentials.
    /// </summary>
    public string KubeconfigYaml { get; }

    /// <summary>Every request answered so far.</summary>
    public RequestLog Requests { get; }

    /// <summary>Failures to inject into later requests.</summary>
    public FaultInjector Faults { get; }

    /// <summary>The current cluster-wide resourceVersion (grows with every stored change).</summary>
    public long CurrentResourceVersion => _store.CurrentResourceVersion;

    /// <summary>Where <c>kubectl logs</c> (pods/log) reads container logs; null (the default) answers 400 with the reason.</summary>
    public IContainerLogSource? ContainerLogs
    {
        get => _logs.Source;
        set => _logs.Source = value;
    }

    /// <summary>Number of watch streams open right now.</summary>
    public int OpenWatchCount => _store.OpenWatchCount;

    /// <summary>Starts a server on 127.0.0.1 (port 0 = a free port unless <see cref="KubeApiServerOptions.Port"/> says otherwise).</summary>
    public static async Task<KubeApiServer> StartAsync(KubeApiServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KubeApiServerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, 65535);
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<KubeApiServer>();

        var store = new ObjectStore(options.WatchHistoryCapacity);
        var registry = new ResourceRegistry();
        var faults = new FaultInjector(store, options.FaultSeed);
        var ops = new ApiOperations(store, registry, options.TimeProvider, faults);
        var requests = new RequestLog();
        var frontEnd = new HttpFrontEnd(ops, faults, requests, options, logger);

        foreach (var ns in InitialNamespaces)
        {
            ops.Create(registry.Builtin("", "namespaces"), "", new System.Text.Json.Nodes.JsonObject
            {
                ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = ns },
            }, WriteOptions.ForController);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedLifetime>();
        // Loopback only: this emulator has no authentication and must never be reachable from elsewhere.
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        var app = builder.Build();
        app.Run(frontEnd.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        var baseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
        frontEnd.ServerAddress = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}");

        return new KubeApiServer(app, store, requests, faults, baseAddress, new BuiltinControllers(ops, logger), frontEnd.Logs);
    }

    /// <summary>Writes <see cref="KubeconfigYaml"/> to a file (directories are created).</summary>
    public async Task WriteKubeconfigAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        await File.WriteAllTextAsync(path, KubeconfigYaml, Encoding.UTF8, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _store.CloseWatches();
        await _stopping.CancelAsync().ConfigureAwait(false);
        _store.Complete();
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _controllers.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static string BuildKubeconfig(Uri baseAddress) =>
        $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: sandbox
          cluster:
            server: {baseAddress.GetLeftPart(UriPartial.Authority)}
        users:
        - name: sandbox
          user:
            token: sandbox-no-auth
        contexts:
        - name: sandbox
          context:
            cluster: sandbox
            user: sandbox
            namespace: default
        current-context: sandbox
        preferences: {"{}"}

        """;
}
