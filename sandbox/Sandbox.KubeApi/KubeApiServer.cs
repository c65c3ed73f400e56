using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
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
/// 127.0.0.1 only, over plain HTTP: a test harness, never a production dependency. It authenticates the admin
/// token and ServiceAccount tokens it mints, and enforces RBAC only when asked (<see cref="KubeApiServerOptions.Rbac"/>).
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

    private readonly ApiSecurity _security;

    private readonly X509Certificate2 _certificate;

    private KubeApiServer(WebApplication app, ObjectStore store, RequestLog requests, FaultInjector faults, Uri baseAddress, Uri secureBaseAddress, X509Certificate2 certificate, BuiltinControllers controllers, ApiSecurity security, PodLogStreamer logs)
    {
        _app = app;
        _logs = logs;
        _store = store;
        _security = security;
        _certificate = certificate;
        Requests = requests;
        Faults = faults;
        BaseAddress = baseAddress;
        SecureBaseAddress = secureBaseAddress;
        CertificateAuthorityPem = certificate.ExportCertificatePem();
        // kubectl sends credentials only over TLS, so with RBAC the admin kubeconfig must use HTTPS to be the admin;
        // without RBAC a credential-less request is the admin anyway and the kubeconfig keeps the plain HTTP address.
        KubeconfigYaml = BuildKubeconfig(security.Authorizer.Enabled ? secureBaseAddress : baseAddress, "sandbox", security.AdminToken, "default");
        _controllers = Task.Run(() => controllers.RunAsync(_stopping.Token));
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseAddress { get; }

    /// <summary>https://127.0.0.1:PORT/ (a second port, same API) with the self-signed <see cref="CertificateAuthorityPem"/>.</summary>
    public Uri SecureBaseAddress { get; }

    /// <summary>The PEM of the HTTPS endpoint's self-signed certificate (its own CA), as kubeconfigs carry it.</summary>
    public string CertificateAuthorityPem { get; }

    /// <summary>
    /// The admin kubeconfig: cluster, user and context "sandbox" (namespace default), with a bearer token generated at
    /// start that authenticates as "sandbox-admin" in group system:masters (allowed everything, also with
    /// <see cref="KubeApiServerOptions.Rbac"/>). It points at <see cref="BaseAddress"/> (plain HTTP) without RBAC and at
    /// <see cref="SecureBaseAddress"/> with RBAC, because kubectl sends no credentials over plain HTTP.
    /// </summary>
    public string KubeconfigYaml { get; }

    /// <summary>The admin kubeconfig's bearer token.</summary>
    public string AdminToken => _security.AdminToken;

    /// <summary>Whether RBAC is enforced (<see cref="KubeApiServerOptions.Rbac"/>).</summary>
    public bool RbacEnabled => _security.Authorizer.Enabled;

    /// <summary>The iss claim of ServiceAccount tokens; OIDC discovery is at /.well-known/openid-configuration.</summary>
    public string ServiceAccountIssuer => _security.Tokens.Issuer;

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
        var security = new ApiSecurity(store, options.TimeProvider, options.Rbac);
        var frontEnd = new HttpFrontEnd(ops, faults, requests, options, security, logger);

        foreach (var ns in InitialNamespaces)
        {
            ops.Create(registry.Builtin("", "namespaces"), "", new System.Text.Json.Nodes.JsonObject
            {
                ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = ns },
            }, WriteOptions.ForController);
        }

        foreach (var (plural, obj) in BootstrapRbac.Objects())
        {
            ops.Create(registry.Builtin(RbacAuthorizer.Group, plural), "", obj, WriteOptions.ForController);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedLifetime>();
        // Loopback only: this emulator has no authentication and must never be reachable from elsewhere.
        var certificate = ServingCertificate.Create();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);
            k.Listen(IPAddress.Loopback, options.SecurePort, listen =>
            {
                // HTTP/1.1 as on the plain port, so watches and aborts behave the same on both.
                listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1;
                listen.UseHttps(certificate);
            });
        });
        var app = builder.Build();
        app.Run(frontEnd.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        var port = addresses.First(a => a.Scheme == "http").Port;
        var securePort = addresses.First(a => a.Scheme == "https").Port;
        var baseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
        var secureBaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{securePort}/"));
        frontEnd.ServerAddress = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}");
        security.Tokens.Issuer = options.ServiceAccountIssuer ?? baseAddress.GetLeftPart(UriPartial.Authority);
        security.Tokens.ApiAudiences = [security.Tokens.Issuer];
        security.JwksUri = baseAddress.GetLeftPart(UriPartial.Authority) + "/openid/v1/jwks";

        return new KubeApiServer(app, store, requests, faults, baseAddress, secureBaseAddress, certificate, new BuiltinControllers(ops, logger), security, frontEnd.Logs);
    }

    /// <summary>Writes <see cref="KubeconfigYaml"/> to a file (directories are created).</summary>
    public async Task WriteKubeconfigAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        await WriteFileAsync(path, KubeconfigYaml, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteFileAsync(string path, string content, CancellationToken cancellationToken)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Mints a ServiceAccount token as a TokenRequest would (the ServiceAccount must exist): for the API server's
    /// audience unless others are named, valid for an hour unless a lifetime is given.
    /// </summary>
    public string CreateToken(string ns, string serviceAccount, IReadOnlyList<string>? audiences = null, TimeSpan? lifetime = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(ns);
        ArgumentException.ThrowIfNullOrEmpty(serviceAccount);
        var spec = new System.Text.Json.Nodes.JsonObject { ["expirationSeconds"] = (long)(lifetime ?? ApiSecurity.DefaultTokenLifetime).TotalSeconds };
        if (audiences is { Count: > 0 })
        {
            spec["audiences"] = new System.Text.Json.Nodes.JsonArray([.. audiences.Select(a => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(a))]);
        }

        try
        {
            var answer = _security.RequestToken(ns, serviceAccount, new System.Text.Json.Nodes.JsonObject { ["spec"] = spec });
            return Json.String(answer["status"]?["token"])!;
        }
        catch (ApiException ex)
        {
            throw new InvalidOperationException($"cannot mint a token for ServiceAccount {ns}/{serviceAccount}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A kubeconfig that authenticates as a ServiceAccount with a freshly minted token (see <see cref="CreateToken"/>):
    /// cluster "sandbox" at <see cref="SecureBaseAddress"/> (kubectl sends tokens only over TLS), user and context
    /// "system:serviceaccount:NS:NAME", default namespace NS.
    /// </summary>
    public string ServiceAccountKubeconfig(string ns, string serviceAccount, TimeSpan? lifetime = null) =>
        BuildKubeconfig(SecureBaseAddress, UserInfo.ServiceAccountPrefix + ns + ":" + serviceAccount, CreateToken(ns, serviceAccount, null, lifetime), ns);

    /// <summary>Writes <see cref="ServiceAccountKubeconfig"/> to a file (directories are created, the file is readable by its owner only).</summary>
    public async Task WriteServiceAccountKubeconfigAsync(string ns, string serviceAccount, string path, TimeSpan? lifetime = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        await WriteFileAsync(path, ServiceAccountKubeconfig(ns, serviceAccount, lifetime), cancellationToken).ConfigureAwait(false);
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
        _security.Dispose();
        _certificate.Dispose();
    }

    private string BuildKubeconfig(Uri baseAddress, string user, string token, string ns)
    {
        // system:serviceaccount:NS:NAME needs quotes in YAML; "sandbox" keeps the form it always had.
        var name = user.Contains(':', StringComparison.Ordinal) ? "\"" + user + "\"" : user;
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: sandbox
              cluster:
                server: {baseAddress.GetLeftPart(UriPartial.Authority)}{(baseAddress.Scheme == "https" ? "\n    certificate-authority-data: " + Convert.ToBase64String(Encoding.ASCII.GetBytes(CertificateAuthorityPem)) : "")}
            users:
            - name: {name}
              user:
                token: {token}
            contexts:
            - name: {name}
              context:
                cluster: sandbox
                user: {name}
                namespace: {ns}
            current-context: {name}
            preferences: {"{}"}

            """;
    }
}
