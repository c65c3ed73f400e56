using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Sandbox.Greenhouse;

/// <summary>
/// An in-process Greenhouse for tests and the sandbox: Harvest v3 (token endpoint, candidates, notes,
/// tags, users, sources, applications/prospects) on 127.0.0.1 with cursor paging, rate limits and
/// faults, plus the webhook side that signs and (re)delivers events whenever the data changes.
/// A test harness, never a production dependency.
/// </summary>
public sealed class GreenhouseSimulator : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly GreenhouseSimulatorOptions options;
    private readonly SimulatorStore store;
    private readonly TokenService tokens;
    private readonly RateLimitTracker limits;
    private readonly WebhookDispatcher webhooks;
    private readonly RequestLog log = new();

    private GreenhouseSimulator(GreenhouseSimulatorOptions options)
    {
        this.options = options;
        store = new SimulatorStore(options);
        tokens = new TokenService(options, store);
        limits = new RateLimitTracker(options);
        webhooks = new WebhookDispatcher(options);
        var api = new HarvestApi(options, store, tokens, limits, Faults, webhooks, log, () => HarvestBaseUrl);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedHostLifetime>();
        app = builder.Build();
        ((IApplicationBuilder)app).Run(context =>
        {
            if (context.Request.Path == "/token")
            {
                return tokens.HandleAsync(context);
            }

            if (context.Request.Path.StartsWithSegments("/v3"))
            {
                return api.HandleAsync(context);
            }

            // v1/v2 were switched off on 2026-08-31; anything else does not exist either.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }

    /// <summary>Root of the listener, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>What <c>Harvest:BaseUrl</c> should be: <c>{BaseUrl}v3</c>.</summary>
    public Uri HarvestBaseUrl => new(BaseUrl, "v3");

    /// <summary>What <c>Harvest:TokenUrl</c> should be: <c>{BaseUrl}token</c>.</summary>
    public Uri TokenUrl => new(BaseUrl, "token");

    /// <summary>The first configured client (or <see cref="SimulatedClient.Default"/>).</summary>
    public SimulatedClient DefaultClient => tokens.Client(options.Clients.Count == 0 ? SimulatedClient.Default.ClientId : options.Clients[0].ClientId)!;

    /// <summary>The Site Admin the integration should use as <c>sub</c>.</summary>
    public long SyncUserId => options.SyncUserId;

    public SimulatorFaults Faults { get; } = new();

    public SimulatorStatistics Statistics =>
        new(tokens.Requests, log.Snapshot().Count, limits.Throttled, limits.RequestsDuringPenalty, limits.MaxRequestsInAnyWindow);

    /// <summary>Every Harvest request so far, oldest first.</summary>
    public IReadOnlyList<SimulatedRequest> Requests => log.Snapshot();

    public IReadOnlyList<WebhookDelivery> WebhookDeliveries => webhooks.Deliveries;

    public IReadOnlyList<long> CandidateIds
    {
        get
        {
            lock (store.Gate)
            {
                return [.. store.Candidates.Keys];
            }
        }
    }

    public static async Task<GreenhouseSimulator> StartAsync(GreenhouseSimulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        var simulator = new GreenhouseSimulator(options ?? new GreenhouseSimulatorOptions());
        try
        {
            await simulator.app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await simulator.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = simulator.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        simulator.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return simulator;
    }

    /// <summary>A copy of a candidate as Harvest returns it, or null.</summary>
    public JsonObject? GetCandidate(long candidateId)
    {
        lock (store.Gate)
        {
            return store.Candidates.TryGetValue(candidateId, out var candidate) ? candidate.DeepClone().AsObject() : null;
        }
    }

    public IReadOnlyList<JsonObject> GetNotes(long candidateId) => Children(store.Notes, candidateId);

    public IReadOnlyList<JsonObject> GetApplications(long candidateId) => Children(store.Applications, candidateId);

    /// <summary>Adds a person as a prospect (fires <c>new_prospect_application</c>); returns the candidate id.</summary>
    public long CreateCandidate(string firstName, string lastName, string email, WebhookSendMode mode = WebhookSendMode.Send)
    {
        JsonObject envelope;
        long id;
        lock (store.Gate)
        {
            var now = options.TimeProvider.GetUtcNow();
            id = store.NewCandidateId();
            var timestamp = GreenhouseJson.Timestamp(now);
            var candidate = new JsonObject
            {
                ["id"] = id, ["created_at"] = timestamp, ["updated_at"] = timestamp, ["first_name"] = firstName, ["last_name"] = lastName,
                ["preferred_name"] = null, ["company"] = null, ["title"] = null, ["last_activity_at"] = timestamp, ["private"] = false,
                ["can_email"] = true, ["time_zone"] = null, ["tags"] = new JsonArray(), ["linked_user_ids"] = new JsonArray(),
                ["phone_numbers"] = new JsonArray(), ["addresses"] = new JsonArray(),
                ["email_addresses"] = new JsonArray { new JsonObject { ["value"] = email, ["type"] = "personal" } },
                ["website_addresses"] = new JsonArray(), ["social_media_addresses"] = new JsonArray(), ["custom_fields"] = new JsonObject(),
            };
            store.Candidates[id] = candidate;
            var application = store.NewRecord(now);
            application["candidate_id"] = id;
            application["prospect"] = true;
            application["status"] = "in_process";
            application["prospective_job_ids"] = new JsonArray();
            store.Applications[GreenhouseJson.Id(application)] = application;
            envelope = WebhookPayloads.NewApplication(application, candidate);
        }

        webhooks.Publish(envelope, mode);
        return id;
    }

    /// <summary>Changes a candidate as a Greenhouse user would (bumps <c>updated_at</c>, fires <c>update_candidate</c>).</summary>
    public IReadOnlyList<WebhookDelivery> UpdateCandidate(long candidateId, Action<JsonObject> change, WebhookSendMode mode = WebhookSendMode.Send)
    {
        ArgumentNullException.ThrowIfNull(change);
        JsonObject envelope;
        lock (store.Gate)
        {
            var candidate = store.Candidates.TryGetValue(candidateId, out var found) ? found : throw new KeyNotFoundException($"No candidate {candidateId}.");
            change(candidate);
            candidate["updated_at"] = GreenhouseJson.Timestamp(options.TimeProvider.GetUtcNow());
            envelope = WebhookPayloads.UpdateCandidate(candidate);
        }

        return webhooks.Publish(envelope, mode);
    }

    /// <summary>Deletes a candidate (fires <c>delete_candidate</c> unless told otherwise).</summary>
    public IReadOnlyList<WebhookDelivery> DeleteCandidate(long candidateId, WebhookSendMode mode = WebhookSendMode.Send)
    {
        JsonObject envelope;
        lock (store.Gate)
        {
            var removed = store.RemoveCandidate(candidateId) ?? throw new KeyNotFoundException($"No candidate {candidateId}.");
            envelope = WebhookPayloads.DeleteCandidate(removed);
        }

        return webhooks.Publish(envelope, mode);
    }

    /// <summary>
    /// Merges <paramref name="loserId"/> into <paramref name="winnerId"/> as Greenhouse does: the loser's
    /// applications, e-mail addresses and phone numbers move to the winner, the loser is removed, and only
    /// <c>merge_candidate</c> fires (in the documented shape; no <c>delete_candidate</c>).
    /// </summary>
    public IReadOnlyList<WebhookDelivery> MergeCandidates(long loserId, long winnerId, WebhookSendMode mode = WebhookSendMode.Send)
    {
        JsonObject envelope;
        lock (store.Gate)
        {
            if (loserId == winnerId || !store.Candidates.TryGetValue(winnerId, out var winner) || !store.Candidates.TryGetValue(loserId, out var loser))
            {
                throw new KeyNotFoundException($"Cannot merge candidate {loserId} into {winnerId}.");
            }
            foreach (var application in store.Applications.Values.Where(a => a["candidate_id"]?.GetValue<long>() == loserId))
            {
                application["candidate_id"] = winnerId;
            }
            foreach (var field in new[] { "email_addresses", "phone_numbers" })
            {
                var merged = winner[field]?.AsArray() ?? [];
                var known = merged.Select(v => v?["value"]?.GetValue<string>()).ToHashSet(StringComparer.OrdinalIgnoreCase);
                foreach (var value in loser[field]?.AsArray() ?? [])
                {
                    if (known.Add(value?["value"]?.GetValue<string>()))
                    {
                        merged.Add(value!.DeepClone());
                    }
                }
                winner[field] = merged.DeepClone();
            }
            winner["updated_at"] = GreenhouseJson.Timestamp(options.TimeProvider.GetUtcNow());
            store.RemoveCandidate(loserId);
            envelope = WebhookPayloads.MergeCandidate(loser, winnerId);
        }

        return webhooks.Publish(envelope, mode);
    }

    /// <summary>
    /// Anonymises a candidate following Greenhouse's "Anonymized Fields" table for the fields the
    /// simulator holds (e.g. <c>full_name</c> gives first name "Anonymized" and the id as last name;
    /// <c>emails</c> — e-mails sent through Greenhouse — leaves the addresses), then fires
    /// <c>candidate_anonymized</c> in the documented shape.
    /// </summary>
    public IReadOnlyList<WebhookDelivery> AnonymizeCandidate(long candidateId, IReadOnlyList<string> fields, WebhookSendMode mode = WebhookSendMode.Send)
    {
        ArgumentNullException.ThrowIfNull(fields);
        JsonObject envelope;
        lock (store.Gate)
        {
            var candidate = store.Candidates.TryGetValue(candidateId, out var found) ? found : throw new KeyNotFoundException($"No candidate {candidateId}.");
            foreach (var field in fields)
            {
                switch (field)
                {
                    case "full_name":
                        candidate["first_name"] = "Anonymized";
                        candidate["last_name"] = candidateId.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "current_company": candidate["company"] = null; break;
                    case "current_title": candidate["title"] = null; break;
                    case "email_addresses": candidate["email_addresses"] = new JsonArray(); break;
                    case "phone_numbers": candidate["phone_numbers"] = new JsonArray(); break;
                    case "addresses": candidate["addresses"] = new JsonArray(); break;
                    case "websites": candidate["website_addresses"] = new JsonArray(); break;
                    case "social_media_links": candidate["social_media_addresses"] = new JsonArray(); break;
                    case "tags":
                        candidate["tags"] = new JsonArray();
                        foreach (var key in store.AppliedTags.Where(t => t.Value["candidate_id"]?.GetValue<long>() == candidateId).Select(t => t.Key).ToList())
                        {
                            store.AppliedTags.Remove(key);
                        }
                        break;
                    case "notes":
                        foreach (var key in store.Notes.Where(n => n.Value["candidate_id"]?.GetValue<long>() == candidateId).Select(n => n.Key).ToList())
                        {
                            store.Notes.Remove(key);
                        }
                        break;
                }
            }
            candidate["updated_at"] = GreenhouseJson.Timestamp(options.TimeProvider.GetUtcNow());
            envelope = WebhookPayloads.CandidateAnonymized(candidateId, fields);
        }

        return webhooks.Publish(envelope, mode);
    }

    /// <summary>Sends <c>update_candidate</c> for a candidate as it is now, on demand.</summary>
    public IReadOnlyList<WebhookDelivery> SendCandidateUpdated(long candidateId, WebhookSendMode mode = WebhookSendMode.Send)
    {
        JsonObject envelope;
        lock (store.Gate)
        {
            envelope = WebhookPayloads.UpdateCandidate(store.Candidates.TryGetValue(candidateId, out var found) ? found : throw new KeyNotFoundException($"No candidate {candidateId}."));
        }

        return webhooks.Publish(envelope, mode);
    }

    /// <summary>Sends any event body (e.g. one of Greenhouse's example payloads), signed like every other.</summary>
    public IReadOnlyList<WebhookDelivery> SendWebhook(JsonObject envelope, WebhookSendMode mode = WebhookSendMode.Send)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return webhooks.Publish(envelope.DeepClone().AsObject(), mode);
    }

    /// <summary>Saves a webhook: pings it first; true when the ping got 200 (otherwise it stays disabled, like Greenhouse).</summary>
    public Task<bool> RegisterWebhookAsync(WebhookRegistration registration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        return webhooks.RegisterAsync(registration, cancellationToken);
    }

    /// <summary>Every webhook (admin-saved and API-made), as <c>GET /v3/webhooks</c> lists them.</summary>
    public IReadOnlyList<ManagedWebhook> Webhooks => webhooks.List();

    /// <summary>
    /// Maps a registered webhook URL to the address each attempt is posted to (null: unreachable, the attempt fails
    /// like a connection error). The sandbox resolves an endpoint's host to the receiver pods this way; the
    /// delivery log keeps the registered URL. Null (default): post to the registered URL.
    /// </summary>
    public Func<Uri, CancellationToken, ValueTask<Uri?>>? WebhookEndpointResolver
    {
        get => webhooks.Resolver;
        set => webhooks.Resolver = value;
    }

    /// <summary>The next <paramref name="count"/> event deliveries are lost on purpose.</summary>
    public void DropNextWebhooks(int count) => webhooks.DropNext(count);

    /// <summary>Adds or replaces a client: change its scopes (removal bites at once) or rotate its secret.</summary>
    public void SetClient(SimulatedClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        tokens.SetClient(client);
    }

    /// <summary>Every token issued so far expires now (the next Harvest call gets 401).</summary>
    public void ExpireTokens() => tokens.ExpireAll();

    public async ValueTask DisposeAsync()
    {
        await webhooks.DisposeAsync().ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }

    private List<JsonObject> Children(SortedDictionary<long, JsonObject> collection, long candidateId)
    {
        lock (store.Gate)
        {
            return [.. collection.Values.Where(c => c["candidate_id"]?.GetValue<long>() == candidateId).Select(c => c.DeepClone().AsObject())];
        }
    }
}
