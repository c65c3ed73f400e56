using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Sandbox;

/// <summary>
/// The sandbox's stand-in for DNS and the Ingress: a webhook registered in the simulator with an integration's public
/// endpoint (e.g. <c>https://hooks.example.com/greenhouse/acme</c>, as the operator registers it with
/// spec.webhook.registration HarvestApi) is posted to one of the ready pods behind that integration's receiver
/// Service, at the pod port the Service's <c>webhook</c> port targets, over plain HTTP. The integration is found by
/// the host and path of spec.webhook.endpoint. Attempts rotate over the ready pods; answers are cached for a second.
/// A URL that matches no integration is posted to as registered.
/// </summary>
internal sealed class ReceiverEndpointResolver(IKubernetes client)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, (DateTime At, IReadOnlyList<Uri> Targets)> cache = new(StringComparer.Ordinal);
    private int next;

    public async ValueTask<Uri?> ResolveAsync(Uri registered, CancellationToken cancellationToken)
    {
        var key = registered.GetLeftPart(UriPartial.Path);
        if (!cache.TryGetValue(key, out var known) || DateTime.UtcNow - known.At > CacheFor)
        {
            known = (DateTime.UtcNow, await TargetsAsync(registered, cancellationToken).ConfigureAwait(false) ?? [registered]);
            cache[key] = known;
        }

        return known.Targets.Count == 0 ? null : known.Targets[(int)((uint)Interlocked.Increment(ref next) % known.Targets.Count)];
    }

    /// <summary>The pod addresses behind the matching integration's Service; null when no integration has this endpoint.</summary>
    private async Task<IReadOnlyList<Uri>?> TargetsAsync(Uri registered, CancellationToken cancellationToken)
    {
        JsonElement list;
        try
        {
            list = (JsonElement)await client.CustomObjects.ListClusterCustomObjectAsync("greenhouse.resource.io", "v1alpha1", "greenhouseintegrations", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        foreach (var item in list.GetProperty("items").EnumerateArray())
        {
            if (!Uri.TryCreate(item.GetProperty("spec").GetProperty("webhook").GetProperty("endpoint").GetString(), UriKind.Absolute, out var endpoint)
                || !string.Equals(endpoint.Host, registered.Host, StringComparison.OrdinalIgnoreCase) || endpoint.AbsolutePath != registered.AbsolutePath)
            {
                continue;
            }

            var metadata = item.GetProperty("metadata");
            var ns = metadata.GetProperty("namespace").GetString()!;
            var name = metadata.GetProperty("name").GetString()!;
            V1Service service;
            try
            {
                service = await client.CoreV1.ReadNamespacedServiceAsync($"{name}-receiver", ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return [];
            }

            var port = service.Spec?.Ports?.FirstOrDefault(p => p.Name == "webhook");
            if (service.Spec?.Selector is not { Count: > 0 } selector || port is null)
            {
                return [];
            }

            var pods = await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: string.Join(',', selector.Select(s => $"{s.Key}={s.Value}")), cancellationToken: cancellationToken).ConfigureAwait(false);
            return [.. pods.Items
                .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.PodIP is { Length: > 0 } && p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
                .OrderBy(p => p.Metadata.Name, StringComparer.Ordinal)
                .Select(p => TargetPort(p, port) is { } target ? new Uri($"http://{p.Status.PodIP}:{target}{registered.PathAndQuery}") : null)
                .OfType<Uri>()];
        }

        return null;
    }

    private static int? TargetPort(V1Pod pod, V1ServicePort port)
    {
        var target = port.TargetPort?.Value;
        if (string.IsNullOrEmpty(target))
        {
            return port.Port;
        }

        return int.TryParse(target, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : pod.Spec?.Containers?.SelectMany(c => c.Ports ?? []).FirstOrDefault(p => p.Name == target)?.ContainerPort;
    }
}
