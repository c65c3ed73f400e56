using System.Globalization;

namespace ControllerRuntime;

/// <summary>Counts Kubernetes API requests (rest_client_requests_total) by method (GET, WATCH, POST, PUT, PATCH, DELETE) and status code.</summary>
public sealed class ApiRequestMetricsHandler : DelegatingHandler
{
    private readonly ControllerMetrics _metrics;

    public ApiRequestMetricsHandler(ControllerMetrics metrics) => _metrics = metrics;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var verb = Verb(request);
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            _metrics.ApiRequests.WithLabels(verb, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture)).Inc();
            return response;
        }
        catch (HttpRequestException)
        {
            _metrics.ApiRequests.WithLabels(verb, "error").Inc();
            throw;
        }
    }

    private static string Verb(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Get)
        {
            return request.Method.Method;
        }

        var query = request.RequestUri?.Query ?? "";
        return query.Contains("watch=true", StringComparison.Ordinal) ? "WATCH" : "GET";
    }
}
