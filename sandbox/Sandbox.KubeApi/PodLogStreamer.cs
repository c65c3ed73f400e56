using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sandbox.KubeApi;

/// <summary>
/// <c>GET pods/{name}/log</c>: reads the container's CRI-format log file from the registered
/// <see cref="IContainerLogSource"/> and answers plain text, with the kubelet's query parameters:
/// <c>container</c>, <c>previous</c>, <c>tailLines</c>, <c>sinceSeconds</c>/<c>sinceTime</c>,
/// <c>timestamps</c>, <c>limitBytes</c> and <c>follow</c> (streams until the client leaves or the run stops).
/// </summary>
internal sealed class PodLogStreamer(ApiOperations ops, TimeProvider time)
{
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(200);

    public IContainerLogSource? Source { get; set; }

    public async Task ServeAsync(HttpContext ctx, ResourceType pods, string ns, string name)
    {
        var pod = ops.Get(pods, ns, name);
        var query = ctx.Request.Query;
        var container = ChooseContainer(pod, name, query["container"].ToString());
        var previous = Flag(query, "previous");
        var follow = Flag(query, "follow") && !previous;
        var timestamps = Flag(query, "timestamps");
        var tail = Number(query, "tailLines", allowZero: true);
        var limit = Number(query, "limitBytes", allowZero: false);
        var since = Since(query);
        var source = Source ?? throw ApiException.BadRequest($"the sandbox API server has no node attached to read the logs of pod \"{name}\" from (the local kubelet registers itself in `sandbox run`)");
        var uid = Json.String(pod["metadata"]?["uid"]) ?? "";
        var file = source.Find(ns, name, uid, container, previous)
            ?? throw ApiException.BadRequest(previous
                ? $"previous terminated container \"{container}\" in pod \"{name}\" not found"
                : $"container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating");

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/plain";
        var output = new LogOutput(ctx.Response.Body, timestamps, since, limit);
        await using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var pending = new List<byte>();
        var lines = ReadLines(stream, pending);
        foreach (var line in tail is { } n ? lines.Skip(Math.Max(0, lines.Count - (int)Math.Min(n, int.MaxValue))) : lines)
        {
            if (!await output.WriteAsync(line, ctx.RequestAborted).ConfigureAwait(false))
            {
                return;
            }
        }

        await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        if (!follow)
        {
            return;
        }

        while (!ctx.RequestAborted.IsCancellationRequested)
        {
            var fresh = ReadLines(stream, pending);
            if (fresh.Count == 0)
            {
                // Nothing new: the follow ends once this run has stopped (or was replaced) and its last words are out.
                var current = source.Find(ns, name, uid, container, previous: false);
                if (current is null || current.Path != file.Path || !current.Running)
                {
                    foreach (var line in ReadLines(stream, pending))
                    {
                        await output.WriteAsync(line, ctx.RequestAborted).ConfigureAwait(false);
                    }

                    return;
                }

                await Task.Delay(FollowPoll, time, ctx.RequestAborted).ConfigureAwait(false);
                continue;
            }

            foreach (var line in fresh)
            {
                if (!await output.WriteAsync(line, ctx.RequestAborted).ConfigureAwait(false))
                {
                    return;
                }
            }

            await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        }
    }

    private static string ChooseContainer(JsonObject pod, string name, string requested)
    {
        var spec = pod["spec"];
        var regular = Names(spec?["containers"]);
        var all = regular.Concat(Names(spec?["initContainers"])).Concat(Names(spec?["ephemeralContainers"])).ToList();
        if (requested.Length == 0)
        {
            return regular.Count == 1
                ? regular[0]
                : throw ApiException.BadRequest($"a container name must be specified for pod {name}, choose one of: [{string.Join(" ", regular)}]");
        }

        return all.Contains(requested, StringComparer.Ordinal)
            ? requested
            : throw ApiException.BadRequest($"container {requested} is not valid for pod {name}");
    }

    private static List<string> Names(JsonNode? containers) =>
        (containers as JsonArray)?.OfType<JsonObject>().Select(c => Json.String(c["name"]) ?? "").ToList() ?? [];

    private static bool Flag(IQueryCollection query, string key) => query[key].ToString() is "true" or "1";

    private static long? Number(IQueryCollection query, string key, bool allowZero)
    {
        var text = query[key].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && (value > 0 || (allowZero && value == 0))
            ? value
            : throw ApiException.BadRequest($"{key}: Invalid value: {text}: must be {(allowZero ? "greater than or equal to 0" : "greater than 0")}");
    }

    private DateTimeOffset? Since(IQueryCollection query)
    {
        var seconds = Number(query, "sinceSeconds", allowZero: false);
        var sinceTime = query["sinceTime"].ToString();
        if (seconds is not null && sinceTime.Length > 0)
        {
            throw ApiException.BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified");
        }

        if (seconds is { } s)
        {
            return time.GetUtcNow().AddSeconds(-s);
        }

        if (sinceTime.Length == 0)
        {
            return null;
        }

        return DateTimeOffset.TryParse(sinceTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw ApiException.BadRequest($"sinceTime: Invalid value: \"{sinceTime}\": not an RFC 3339 time");
    }

    /// <summary>The complete lines appended since the last read; an unterminated tail waits in <paramref name="pending"/>.</summary>
    private static List<string> ReadLines(FileStream stream, List<byte> pending)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            pending.AddRange(buffer.AsSpan(0, read));
        }

        var lines = new List<string>();
        var start = 0;
        for (var i = 0; i < pending.Count; i++)
        {
            if (pending[i] == (byte)'\n')
            {
                lines.Add(Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending)[start..i]));
                start = i + 1;
            }
        }

        pending.RemoveRange(0, start);
        return lines;
    }

    /// <summary>Writes CRI lines as kubectl shows them: the text, optionally after its timestamp; a since bound and a byte limit.</summary>
    private sealed class LogOutput(Stream body, bool timestamps, DateTimeOffset? since, long? limit)
    {
        private long _written;

        public async Task<bool> WriteAsync(string criLine, CancellationToken cancellationToken)
        {
            var (at, stamp, partial, text) = Parse(criLine);
            if (since is { } bound && at is { } t && t < bound)
            {
                return true;
            }

            var line = (timestamps && stamp is not null ? stamp + " " : "") + text + (partial ? "" : "\n");
            var bytes = Encoding.UTF8.GetBytes(line);
            if (limit is { } max && _written + bytes.Length > max)
            {
                await body.WriteAsync(bytes.AsMemory(0, (int)(max - _written)), cancellationToken).ConfigureAwait(false);
                _written = max;
                return false;
            }

            await body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            _written += bytes.Length;
            return true;
        }

        private static (DateTimeOffset? At, string? Stamp, bool Partial, string Text) Parse(string line)
        {
            // TIMESTAMP STREAM TAG TEXT; anything else is shown as it is.
            var parts = line.Split(' ', 4);
            if (parts.Length >= 3 && parts[1] is "stdout" or "stderr" && parts[2] is "F" or "P"
                && DateTimeOffset.TryParse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return (at, parts[0], parts[2] == "P", parts.Length == 4 ? parts[3] : "");
            }

            return (null, null, false, line);
        }
    }
}
