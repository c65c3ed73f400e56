using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Sandbox.Greenhouse.Tests;

/// <summary>A loopback endpoint that records webhook posts and answers with a status chosen per call.</summary>
internal sealed class WebhookSink : IAsyncDisposable
{
    private readonly WebApplication app;

    private WebhookSink(Func<int, int> statusForAttempt)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        app = builder.Build();
        ((IApplicationBuilder)app).Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var received = new ReceivedWebhook(
                body.ToArray(),
                context.Request.Headers["Signature"].ToString(),
                context.Request.Headers["Greenhouse-Event-ID"].ToString(),
                context.Request.Headers.Authorization.ToString(),
                context.Request.ContentType);
            Received.Enqueue(received);
            context.Response.StatusCode = statusForAttempt(Received.Count);
        });
    }

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public Uri Url { get; private set; } = null!;

    public static async Task<WebhookSink> StartAsync(Func<int, int>? statusForAttempt = null)
    {
        var sink = new WebhookSink(statusForAttempt ?? (_ => 200));
        await sink.app.StartAsync();
        var address = sink.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sink.Url = new Uri(address.TrimEnd('/') + "/hooks/greenhouse");
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

internal sealed record ReceivedWebhook(byte[] Body, string Signature, string EventId, string Authorization, string? ContentType)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}
