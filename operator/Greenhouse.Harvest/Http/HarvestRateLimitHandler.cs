using System.Net;
using Microsoft.Extensions.Options;

namespace Greenhouse.Harvest;

/// <summary>
/// Innermost handler: waits for a <see cref="HarvestRateLimiter"/> permit before each attempt, reports
/// every answer to it, waits out 429 answers (up to <see cref="HarvestOptions.MaxThrottledRetries"/>), and
/// bounds one attempt by <see cref="HarvestOptions.AttemptTimeout"/> once it has its permit, so time
/// spent waiting for the budget never counts as a slow server.
/// </summary>
internal sealed class HarvestRateLimitHandler(HarvestRateLimiter limiter, IOptions<HarvestOptions> options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        for (var attempt = 0; ; attempt++)
        {
            await limiter.AcquireAsync(cancellationToken).ConfigureAwait(false);
            HttpResponseMessage response;
            using (var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                attemptTimeout.CancelAfter(settings.AttemptTimeout);
                try
                {
                    response = await base.SendAsync(request, attemptTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    limiter.OnNoResponse();
                    throw new TimeoutException($"Harvest did not answer {request.Method} {request.RequestUri?.AbsolutePath} within {settings.AttemptTimeout}.", e);
                }
                catch
                {
                    limiter.OnNoResponse();
                    throw;
                }
            }

            limiter.OnResponse(response);
            if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt >= settings.MaxThrottledRetries)
            {
                return response;
            }

            response.Dispose();
        }
    }
}
