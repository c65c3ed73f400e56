using System.Net.Http.Headers;
using System.Text;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Receiver.Webhooks;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>A receiver started in-process (real Kestrel on 127.0.0.1 free ports) over a temp folder.</summary>
internal sealed class TestReceiver : IAsyncDisposable
{
    public const string Secret = "in-process-test-secret";

    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private TestReceiver(WebApplication app, string root, int publicPort, int grpcPort, int httpPort)
    {
        _app = app;
        Root = root;
        Public = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{publicPort}") };
        Api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        Candidates = new Candidates.CandidatesClient(_channel);
        Health = new SyncHealth.SyncHealthClient(_channel);
        Writeback = new Greenhouse.Contracts.Receiver.V1.Writeback.WritebackClient(_channel);
        Integration = new Greenhouse.Contracts.Receiver.V1.Integration.IntegrationClient(_channel);
    }

    public string Root { get; }
    public HttpClient Public { get; }
    public HttpClient Api { get; }
    public Candidates.CandidatesClient Candidates { get; }
    public SyncHealth.SyncHealthClient Health { get; }
    public Greenhouse.Contracts.Receiver.V1.Writeback.WritebackClient Writeback { get; }
    public Greenhouse.Contracts.Receiver.V1.Integration.IntegrationClient Integration { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<TestReceiver> StartAsync(IEnumerable<string>? extraArgs = null, Action<IServiceCollection>? services = null, string? root = null)
    {
        root ??= Directory.CreateTempSubdirectory("ghr-test-").FullName;
        var secrets = Path.Combine(root, "secrets");
        Directory.CreateDirectory(secrets);
        if (!File.Exists(Path.Combine(secrets, "secret_key")))
        {
            await File.WriteAllTextAsync(Path.Combine(secrets, "secret_key"), Secret);
        }
        int publicPort = FreePort.Next(), grpcPort = FreePort.Next(), httpPort = FreePort.Next();
        string[] args =
        [
            $"--urls=http://127.0.0.1:{publicPort}",
            "--Api:BindAddress=127.0.0.1",
            $"--Api:GrpcPort={grpcPort}",
            $"--Api:HttpPort={httpPort}",
            $"--Webhook:SecretsDirectory={secrets}",
            $"--Storage:DataDirectory={Path.Combine(root, "data")}",
            "--Logging:LogLevel:Default=Warning",
            .. extraArgs ?? [],
        ];
        if (!args.Any(a => a.StartsWith("--Api:Auth:Mode=", StringComparison.Ordinal)))
        {
            // Tests of other features call the APIs without tokens; ApiAuthTests turn authentication on.
            args = [.. args, "--Api:Auth:Mode=None"];
        }
        var app = ReceiverApplication.Build(args, services);
        await app.StartAsync();
        return new TestReceiver(app, root, publicPort, grpcPort, httpPort);
    }

    public Task<HttpResponseMessage> SendAsync(string body, string? eventId = null, string secret = Secret, string? signature = null) =>
        SendAsync(Encoding.UTF8.GetBytes(body), eventId, secret, signature);

    public Task<HttpResponseMessage> SendAsync(byte[] body, string? eventId = null, string secret = Secret, string? signature = null) =>
        Public.SendAsync(Signed(body, eventId, secret, signature));

    public static HttpRequestMessage Signed(byte[] body, string? eventId, string secret, string? signature = null, string path = "/webhooks/greenhouse")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Signature", signature ?? WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(secret)));
        if (eventId is not null)
        {
            request.Headers.Add("Greenhouse-Event-ID", eventId);
        }
        return request;
    }

    public async Task<string> MetricsAsync() => await Api.GetStringAsync("/metrics");

    public async ValueTask DisposeAsync()
    {
        Public.Dispose();
        Api.Dispose();
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        TempFolders.Delete(Root);
    }
}
