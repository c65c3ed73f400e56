using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.Greenhouse;

/// <summary>
/// The Greenhouse side of webhooks: a ping when a webhook is saved (a failed ping leaves it disabled),
/// then every event signed with <c>Signature: sha256 &lt;hex&gt;</c> over the exact body bytes, the same
/// <c>Greenhouse-Event-ID</c> on every attempt, retried on the configured schedule until a 200.
/// </summary>
internal sealed class WebhookDispatcher : IAsyncDisposable
{
    private readonly GreenhouseSimulatorOptions options;
    private readonly HttpClient http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Lock gate = new();
    private readonly List<Endpoint> endpoints = [];
    private readonly List<Delivery> deliveries = [];
    private readonly List<Task> running = [];
    private readonly CancellationTokenSource stopping = new();
    private long nextWebhookId = 9000;
    private int dropNext;

    public WebhookDispatcher(GreenhouseSimulatorOptions options)
    {
        this.options = options;
    }

    public IReadOnlyList<WebhookDelivery> Deliveries
    {
        get
        {
            lock (gate)
            {
                return [.. deliveries.Select(d => d.Snapshot())];
            }
        }
    }

    public void DropNext(int count) => Interlocked.Exchange(ref dropNext, count);

    public async Task<bool> RegisterAsync(WebhookRegistration registration, CancellationToken cancellationToken)
    {
        var endpoint = new Endpoint(Interlocked.Increment(ref nextWebhookId), registration);
        var ping = new Delivery(Guid.NewGuid().ToString(), "ping", endpoint, GreenhouseJson.Serialize(WebhookPayloads.Ping(endpoint.Id, registration)), options.TimeProvider.GetUtcNow());
        lock (gate)
        {
            endpoints.RemoveAll(e => e.Registration.Endpoint == registration.Endpoint);
            endpoints.Add(endpoint);
            deliveries.Add(ping);
        }

        var status = await AttemptAsync(ping, cancellationToken).ConfigureAwait(false);
        endpoint.Enabled = status == (int)HttpStatusCode.OK;
        ping.Finish(endpoint.Enabled ? WebhookDeliveryState.Delivered : WebhookDeliveryState.Failed, options.TimeProvider.GetUtcNow());
        return endpoint.Enabled;
    }

    public IReadOnlyList<WebhookDelivery> Publish(JsonObject envelope, WebhookSendMode mode)
    {
        if (mode == WebhookSendMode.None)
        {
            return [];
        }

        var action = envelope["action"]!.GetValue<string>();
        var body = GreenhouseJson.Serialize(envelope);
        var created = new List<Delivery>();
        lock (gate)
        {
            foreach (var endpoint in endpoints.Where(e => e.Enabled && (e.Registration.Events is null || e.Registration.Events.Contains(action))))
            {
                var delivery = new Delivery(Guid.NewGuid().ToString(), action, endpoint, body, options.TimeProvider.GetUtcNow());
                deliveries.Add(delivery);
                created.Add(delivery);
                if (mode == WebhookSendMode.Drop || TakeDrop())
                {
                    delivery.Finish(WebhookDeliveryState.Dropped, null);
                }
                else
                {
                    running.RemoveAll(t => t.IsCompleted);
                    running.Add(RunAsync(delivery));
                }
            }
        }

        return [.. created.Select(d => d.Snapshot())];
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        Task[] pending;
        lock (gate)
        {
            pending = [.. running];
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
        stopping.Dispose();
        http.Dispose();
    }

    private bool TakeDrop()
    {
        if (Volatile.Read(ref dropNext) <= 0)
        {
            return false;
        }

        return Interlocked.Decrement(ref dropNext) >= 0;
    }

    private async Task RunAsync(Delivery delivery)
    {
        var delays = options.WebhookRetryDelays;
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                if (await AttemptAsync(delivery, stopping.Token).ConfigureAwait(false) == (int)HttpStatusCode.OK)
                {
                    delivery.Finish(WebhookDeliveryState.Delivered, options.TimeProvider.GetUtcNow());
                    return;
                }

                if (attempt >= delays.Count)
                {
                    delivery.Finish(WebhookDeliveryState.Failed, null);
                    return;
                }

                // An absolute due time, so a clock moved on before the timer is armed still counts.
                var due = options.TimeProvider.GetUtcNow() + TimeSpan.FromTicks((long)(delays[attempt].Ticks * options.WebhookRetryTimeScale));
                delivery.Schedule(due);
                var wait = due - options.TimeProvider.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, options.TimeProvider, stopping.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The simulator is shutting down; the delivery stays pending.
        }
    }

    private async Task<int?> AttemptAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var registration = delivery.Endpoint.Registration;
        var bytes = Encoding.UTF8.GetBytes(delivery.Body);
        using var request = new HttpRequestMessage(HttpMethod.Post, registration.Endpoint) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Signature", "sha256 " + Sign(registration.SecretKey, bytes));
        request.Headers.TryAddWithoutValidation("Greenhouse-Event-ID", delivery.EventId);
        request.Headers.TryAddWithoutValidation("User-Agent", "Greenhouse-Sandbox-Webhooks/1.0");
        if (registration.BasicAuthUsername is { } user)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{registration.BasicAuthPassword}")));
        }

        delivery.AttemptStarted();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.WebhookTimeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            delivery.AttemptAnswered((int)response.StatusCode);
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>Lower-case hex HMAC-SHA256 of the body, keyed with the webhook's secret.</summary>
    internal static string Sign(string secretKey, byte[] body) => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secretKey), body));

    private sealed class Endpoint(long id, WebhookRegistration registration)
    {
        public long Id { get; } = id;

        public WebhookRegistration Registration { get; } = registration;

        public volatile bool Enabled;
    }

    private sealed class Delivery(string eventId, string action, Endpoint endpoint, string body, DateTimeOffset createdAt)
    {
        private readonly Lock gate = new();
        private WebhookDeliveryState state = WebhookDeliveryState.Pending;
        private int attempts;
        private int? lastStatus;
        private DateTimeOffset? deliveredAt;
        private DateTimeOffset? nextAttemptAt;

        public string EventId { get; } = eventId;

        public Endpoint Endpoint { get; } = endpoint;

        public string Body { get; } = body;

        public void AttemptStarted()
        {
            lock (gate)
            {
                attempts++;
                nextAttemptAt = null;
            }
        }

        public void Schedule(DateTimeOffset due)
        {
            lock (gate)
            {
                nextAttemptAt = due;
            }
        }

        public void AttemptAnswered(int status)
        {
            lock (gate)
            {
                lastStatus = status;
            }
        }

        public void Finish(WebhookDeliveryState final, DateTimeOffset? at)
        {
            lock (gate)
            {
                state = final;
                deliveredAt = at;
                nextAttemptAt = null;
            }
        }

        public WebhookDelivery Snapshot()
        {
            lock (gate)
            {
                return new WebhookDelivery(EventId, action, Endpoint.Registration.Endpoint, Body, state, attempts, lastStatus, createdAt, deliveredAt, nextAttemptAt);
            }
        }
    }
}
