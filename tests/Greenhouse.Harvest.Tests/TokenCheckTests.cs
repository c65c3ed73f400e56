using System.Net;
using System.Text;

namespace Greenhouse.Harvest.Tests;

/// <summary>HarvestTokenCheck: one token request with candidate credentials, as the operator makes before a rollout.</summary>
public sealed class TokenCheckTests
{
    private static readonly Uri TokenUrl = new("http://127.0.0.1:9/token");

    [Fact]
    public async Task Issued_token_means_accepted_and_the_request_uses_basic_auth_and_the_sync_user()
    {
        using var handler = new ScriptedHandler((_, _) => throw new InvalidOperationException("no API call expected"))
        {
            Token = (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, """{"access_token":"t","token_type":"Bearer","expires_at":"2026-12-01T13:00:00Z"}"""),
        };
        using var http = new HttpClient(handler);

        var result = await new HarvestTokenCheck(http).CheckAsync(TokenUrl, 4080, "client", "s3cret", CancellationToken.None);

        Assert.Equal(HarvestTokenCheckOutcome.Accepted, result.Outcome);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 13, 0, 0, TimeSpan.Zero), result.TokenExpiresAt);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("client:s3cret")), request.Authorization);
        Assert.Contains("grant_type=client_credentials", request.Body, StringComparison.Ordinal);
        Assert.Contains("sub=4080", request.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.BadRequest)]
    public async Task Refused_credentials_are_rejected_with_the_oauth_error_and_never_the_secret(HttpStatusCode status)
    {
        using var handler = new ScriptedHandler((_, _) => throw new InvalidOperationException())
        {
            Token = (_, _) => ScriptedHandler.Json(status, """{"error":"invalid_client"}"""),
        };
        using var http = new HttpClient(handler);

        var result = await new HarvestTokenCheck(http).CheckAsync(TokenUrl, null, "client", "WRONG-secret", CancellationToken.None);

        Assert.Equal(HarvestTokenCheckOutcome.Rejected, result.Outcome);
        Assert.Contains("invalid_client", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("WRONG-secret", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_errors_and_unreachable_endpoints_say_nothing_about_the_credentials()
    {
        using var failing = new ScriptedHandler((_, _) => throw new InvalidOperationException()) { Token = (_, _) => ScriptedHandler.Json(HttpStatusCode.ServiceUnavailable, "{}") };
        using var http = new HttpClient(failing);
        Assert.Equal(HarvestTokenCheckOutcome.Unreachable, (await new HarvestTokenCheck(http).CheckAsync(TokenUrl, null, "c", "s", CancellationToken.None)).Outcome);

        using var closed = new HttpClient();
        var result = await new HarvestTokenCheck(closed).CheckAsync(new Uri("http://127.0.0.1:1/token"), null, "c", "s", CancellationToken.None);
        Assert.Equal(HarvestTokenCheckOutcome.Unreachable, result.Outcome);
    }
}
