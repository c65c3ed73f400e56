using System.Net;
using System.Net.Http.Headers;

namespace Greenhouse.Harvest;

/// <summary>Adds the bearer token; on a 401 it drops the token and retries once with a fresh one.</summary>
internal sealed class HarvestAuthenticationHandler(HarvestTokenCache tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        // The token may have been revoked or expired early; a second 401 with a brand-new token is final.
        tokens.Invalidate(token);
        response.Dispose();
        token = await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            tokens.Invalidate(token);
        }

        return response;
    }
}
