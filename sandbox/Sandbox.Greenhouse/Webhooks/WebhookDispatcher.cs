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
/// Two kinds of webhooks: those an admin saves in the UI (<see cref="RegisterAsync"/>, replaced by URL) and
/// those a partner manages through <c>/v3/webhooks</c> (<see cref="Create"/>, <see cref="Update"/>,
/// <see cref="Delete"/>: one event type each, pinged on create and update without being disabled by a
/// failed ping). Every attempt is signed with the secret registered at the time of the attempt.
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

    /// <summary>Maps a registered URL to the address actually posted to (null: unreachable); null posts to the registered URL.</summary>
    public Func<Uri, CancellationToken, ValueTask<Uri?>>? Resolver { get; set; }

    /// <summary>Every webhook, as <c>GET /v3/webhooks</c> lists them (descending id).</summary>
    public IReadOnlyList<ManagedWebhook> List()
    {
        lock (gate)
        {
            return [.. endpoints.OrderByDescending(e => e.Id).Select(e => e.Describe())];
        }
    }

    /// <summary>Saves a webhook made through the API and pings it (in the background).</summary>
    public ManagedWebhook Create(WebhookRegistration registration, int maxAttempts, bool deactivated)
    {
        var now = options.TimeProvider.GetUtcNow();
        var endpoint = new Endpoint(Interlocked.Increment(ref nextWebhookId), registration) { Managed = true, MaxAttempts = maxAttempts, CreatedAt = now, UpdatedAt = now };
        endpoint.Enabled = !deactivated;
        lock (gate)
        {
            endpoints.Add(endpoint);
        }

        Ping(endpoint);
        return endpoint.Describe();
    }

    /// <summary>Changes a webhook made through the API and pings it again; null when there is no such webhook.</summary>
    public ManagedWebhook? Update(long id, Func<WebhookRegistration, WebhookRegistration> change, int? maxAttempts, bool? deactivated)
    {
        Endpoint? endpoint;
        lock (gate)
        {
            endpoint = endpoints.FirstOrDefault(e => e.Id == id);
            if (endpoint is null)
            {
                return null;
            }

            endpoint.Registration = change(endpoint.Registration);
            endpoint.MaxAttempts = maxAttempts ?? endpoint.MaxAttempts;
            endpoint.Enabled = deactivated is { } off ? !off : endpoint.Enabled;
            endpoint.UpdatedAt = options.TimeProvider.GetUtcNow();
        }

        Ping(endpoint);
        return endpoint.Describe();
    }

    /// <summary>Removes a webhook: no new deliveries (those made keep their retries); false when there is none.</summary>
    public bool Delete(long id)
    {
        lock (gate)
        {
            return endpoints.RemoveAll(e => e.Id == id) > 0;
        }
    }

    private void Ping(Endpoint endpoint)
    {
        var ping = new Delivery(Guid.NewGuid().ToString(), "ping", endpoint, GreenhouseJson.Serialize(WebhookPayloads.Ping(endpoint.Id, endpoint.Registration)), options.TimeProvider.GetUtcNow());
        lock (gate)
        {
            deliveries.Add(ping);
            running.RemoveAll(t => t.IsCompleted);
            running.Add(PingAsync(ping));
        }
    }

    private async Task PingAsync(Delivery ping)
    {
        try
        {
            var status = await AttemptAsync(ping, stopping.Token).ConfigureAwait(false);
            ping.Finish(status == (int)HttpStatusCode.OK ? WebhookDeliveryState.Delivered : WebhookDeliveryState.Failed, options.TimeProvider.GetUtcNow());
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public async Task<bool> RegisterAsync(WebhookRegistration registration, CancellationToken cancellationToken)
    {
        var endpoint = new Endpoint(Interlocked.Increment(ref nextWebhookId), registration);
        var ping = new Delivery(Guid.NewGuid().ToString(), "ping", endpoint, GreenhouseJson.Serialize(WebhookPayloads.Ping(endpoint.Id, registration)), options.TimeProvider.GetUtcNow());
        lock (gate)
        {
            endpoints.RemoveAll(e => !e.Managed && e.Registration.Endpoint == registration.Endpoint);
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
                    delivery.Endpoint.LastDelivered = options.TimeProvider.GetUtcNow();
                    delivery.Finish(WebhookDeliveryState.Delivered, options.TimeProvider.GetUtcNow());
                    return;
                }

                if (attempt >= Math.Min(delays.Count, delivery.Endpoint.MaxAttempts - 1))
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
        var target = registration.Endpoint;
        if (Resolver is { } resolve)
        {
            if (await resolve(registration.Endpoint, cancellationToken).ConfigureAwait(false) is not { } resolved)
            {
                delivery.AttemptStarted(null);
                return null;
            }

            target = resolved;
        }

        var bytes = Encoding.UTF8.GetBytes(delivery.Body);
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Signature", "sha256 " + Sign(registration.SecretKey, bytes));
        request.Headers.TryAddWithoutValidation("Greenhouse-Event-ID", delivery.EventId);
        request.Headers.TryAddWithoutValidation("User-Agent", "Greenhouse-Sandbox-Webhooks/1.0");
        if (registration.BasicAuthUsername is { } user)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{registration.BasicAuthPassword}")));
        }

        delivery.AttemptStarted(target);
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
        private volatile WebhookRegistration registration = registration;

        public long Id { get; } = id;

        /// <summary>Replaced by a PATCH; read at every attempt.</summary>
        public WebhookRegistration Registration { get => registration; set => registration = value; }

        public volatile bool Enabled;

        public bool Managed { get; init; }

        public int MaxAttempts { get; set; } = int.MaxValue;

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset UpdatedAt { get; set; }

        public DateTimeOffset? LastDelivered { get; set; }

        public ManagedWebhook Describe()
        {
            var current = Registration;
            return new ManagedWebhook(Id, current.Name, current.Endpoint, current.Events is { Count: 1 } one ? one.First() : null, Managed ? MaxAttempts : null,
                !Enabled, current.BasicAuthUsername, Managed, LastDelivered, CreatedAt, UpdatedAt,
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(current.SecretKey)).AsSpan(0, 8)));
        }
    }

    private sealed class Delivery(string eventId, string action, Endpoint endpoint, string body, DateTimeOffset createdAt)
    {
        private readonly Lock gate = new();
        private WebhookDeliveryState state = WebhookDeliveryState.Pending;
        private int attempts;
        private int? lastStatus;
        private DateTimeOffset? deliveredAt;
        private DateTimeOffset? nextAttemptAt;
        private Uri? deliveredTo;

        public string EventId { get; } = eventId;

        public Endpoint Endpoint { get; } = endpoint;

        public string Body { get; } = body;

        public void AttemptStarted(Uri? target)
        {
            lock (gate)
            {
                attempts++;
                nextAttemptAt = null;
                deliveredTo = target;
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
                return new WebhookDelivery(EventId, action, Endpoint.Registration.Endpoint, Body, state, attempts, lastStatus, createdAt, deliveredAt, nextAttemptAt, Endpoint.Id, deliveredTo);
            }
        }
    }
}
