using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Sandbox.Greenhouse;

namespace Sandbox;

/// <summary>
/// The Greenhouse admin of the sandbox: when an integration's receiver pod is Ready, it configures a
/// webhook in the simulator pointing at <c>http://&lt;podIP&gt;:8080&lt;path of spec.webhook.endpoint&gt;</c>
/// with the integration's effective webhook secret (and Basic auth, and event filter), and configures it
/// again when the pod, the secret or the filter changes (a rotation is "pasted into Greenhouse" at once).
/// A URL no longer used (the pod moved, the integration is gone) is retired. While <see cref="Holding"/>
/// (the admin is away, <c>POST /admin/hold</c>) it changes nothing in Greenhouse: a rotated secret is pasted
/// late, when the hold is released.
/// Integrations with spec.webhook.registration HarvestApi are left to the operator (it registers them through /v3/webhooks).
/// </summary>
internal sealed partial class WebhookRegistrar(IKubernetes client, GreenhouseSimulator simulator, ILogger<WebhookRegistrar> logger)
{
    private const int WebhookPort = 8080;
    private readonly Dictionary<string, (Uri Url, string Fingerprint)> registered = new(StringComparer.Ordinal);
    private volatile bool holding;

    /// <summary>True while the admin is away: nothing is configured, changed or retired in the simulator.</summary>
    public bool Holding
    {
        get => holding;
        set => holding = value;
    }

    public async Task RunAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await SyncAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or JsonException or KeyNotFoundException)
            {
                LogSyncFailed(e.GetType().Name, e.Message);
            }

            try
            {
                await Task.Delay(period, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        if (holding)
        {
            return;
        }

        JsonElement list;
        try
        {
            list = (JsonElement)await client.CustomObjects.ListClusterCustomObjectAsync("greenhouse.resource.io", "v1alpha1", "greenhouseintegrations", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return; // CRD not applied yet.
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in list.GetProperty("items").EnumerateArray())
        {
            var metadata = item.GetProperty("metadata");
            var ns = metadata.GetProperty("namespace").GetString()!;
            var name = metadata.GetProperty("name").GetString()!;
            var webhook = item.GetProperty("spec").GetProperty("webhook");
            if (webhook.TryGetProperty("registration", out var mode) && mode.GetString() == "HarvestApi")
            {
                continue;
            }

            var path = new Uri(webhook.GetProperty("endpoint").GetString()!).AbsolutePath;
            string[]? events = webhook.TryGetProperty("events", out var e) && e.GetArrayLength() > 0
                ? e.EnumerateArray().Select(x => x.GetString()!).ToArray()
                : null;
            seen.Add($"{ns}/{name}");
            await RegisterAsync(ns, name, path, events, cancellationToken).ConfigureAwait(false);
        }

        foreach (var deleted in registered.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            await RetireAsync(registered[deleted].Url, cancellationToken).ConfigureAwait(false);
            registered.Remove(deleted);
        }
    }

    /// <summary>
    /// The simulator cannot remove a webhook; configuring the old URL again with an empty event filter
    /// stops new deliveries to it (deliveries already made keep their retries, as in Greenhouse).
    /// </summary>
    private async Task RetireAsync(Uri url, CancellationToken cancellationToken)
    {
        await simulator.RegisterWebhookAsync(new WebhookRegistration(url, "retired", Events: [], Name: "retired"), cancellationToken).ConfigureAwait(false);
        LogRetired(url);
    }

    private async Task RegisterAsync(string ns, string name, string path, string[]? events, CancellationToken cancellationToken)
    {
        var pods = await client.CoreV1.ListNamespacedPodAsync(
            ns,
            labelSelector: $"app.kubernetes.io/name=greenhouse-receiver,app.kubernetes.io/instance={name}",
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var ready = pods.Items
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .OrderBy(p => p.Name(), StringComparer.Ordinal)
            .ToList();
        if (ready.Count == 0)
        {
            return;
        }

        V1Secret secret;
        try
        {
            secret = await client.CoreV1.ReadNamespacedSecretAsync($"{name}-receiver-webhook", ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return;
        }

        if (secret.Data is null || !secret.Data.TryGetValue("secret_key", out var secretBytes))
        {
            return;
        }

        var key = $"{ns}/{name}";
        // Stay on the pod already configured while it is ready; Greenhouse has one URL per webhook.
        var current = registered.TryGetValue(key, out var known) ? known : ((Uri Url, string Fingerprint)?)null;
        var pod = ready.FirstOrDefault(p => current?.Url.Host == p.Status.PodIP) ?? ready[0];
        var url = new Uri($"http://{pod.Status.PodIP}:{WebhookPort}{path}");
        var secretKey = Encoding.UTF8.GetString(secretBytes);
        var username = secret.Data.TryGetValue("username", out var u) ? Encoding.UTF8.GetString(u) : null;
        var password = secret.Data.TryGetValue("password", out var p) ? Encoding.UTF8.GetString(p) : null;
        // What was configured, with the secret only as a hash (this string is kept in memory, never logged).
        var fingerprint = $"{url} {Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{secretKey}\n{username}\n{password}")))} {string.Join(',', events ?? [])}";
        // Checked again after the secret was read: a hold posted while this pass was under way (and the
        // rotation that follows it) must not have its new key pasted by the pass that read it afterwards.
        if (current?.Fingerprint == fingerprint || holding)
        {
            return;
        }

        var enabled = await simulator.RegisterWebhookAsync(
            new WebhookRegistration(url, secretKey, events, username, password, $"{ns}/{name}"),
            cancellationToken).ConfigureAwait(false);
        if (enabled)
        {
            registered[key] = (url, fingerprint);
            LogRegistered(ns, name, url);
            if (current is { } previous && previous.Url != url)
            {
                await RetireAsync(previous.Url, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            LogPingFailed(ns, name, url);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Greenhouse: webhook for {Namespace}/{Integration} now posts to {Url} with the integration's current secret (ping answered 200)")]
    private partial void LogRegistered(string @namespace, string integration, Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Greenhouse: ping to {Url} for {Namespace}/{Integration} did not get 200; trying again")]
    private partial void LogPingFailed(string @namespace, string integration, Uri url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Greenhouse: webhook to {Url} retired (no more events)")]
    private partial void LogRetired(Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Greenhouse side: {ErrorType}: {Error}; trying again")]
    private partial void LogSyncFailed(string errorType, string error);
}
