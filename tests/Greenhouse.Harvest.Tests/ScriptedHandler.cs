using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Greenhouse.Harvest.Tests;

/// <summary>Primary handler for unit tests: answers token and API requests from functions and records what was sent.</summary>
internal sealed class ScriptedHandler(Func<RecordedRequest, int, HttpResponseMessage> api) : HttpMessageHandler
{
    private int tokenCalls;
    private int apiCalls;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public Func<RecordedRequest, int, HttpResponseMessage> Token { get; set; } = (_, n) => Json(HttpStatusCode.OK, $$"""{"access_token":"token-{{n}}","token_type":"Bearer","expires_in":3600}""");

    public int TokenCalls => Volatile.Read(ref tokenCalls);

    public int ApiCalls => Volatile.Read(ref apiCalls);

    /// <summary>Holds every token answer until released (to make concurrent callers overlap).</summary>
    public TaskCompletionSource? TokenGate { get; set; }

    public IEnumerable<RecordedRequest> ApiRequests => Requests.Where(r => !r.IsToken);

    public static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(request.Method, request.RequestUri!, request.Headers.Authorization?.ToString(), body);
        Requests.Enqueue(recorded);
        if (recorded.IsToken)
        {
            var n = Interlocked.Increment(ref tokenCalls);
            if (TokenGate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            return Token(recorded, n);
        }

        return api(recorded, Interlocked.Increment(ref apiCalls));
    }
}

internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, string? Authorization, string? Body)
{
    public bool IsToken => Uri.AbsolutePath == "/token";
}
