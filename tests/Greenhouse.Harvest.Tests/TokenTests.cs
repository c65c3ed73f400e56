using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Greenhouse.Harvest.Tests;

public sealed class TokenTests
{
    private static HttpResponseMessage EmptyList(RecordedRequest request, int n) => ScriptedHandler.Json(HttpStatusCode.OK, "[]");

    [Fact]
    public async Task Concurrent_calls_share_one_token_request()
    {
        var handler = new ScriptedHandler(EmptyList) { TokenGate = new TaskCompletionSource() };
        using var host = HarvestTestHost.ForHandler(handler);

        var calls = Enumerable.Range(0, 20).Select(_ => host.Client.ListSourcesAsync().ToListAsync().AsTask()).ToList();
        await Eventually.TrueAsync(() => handler.TokenCalls == 1, "first token request started");
        handler.TokenGate.SetResult();
        await Task.WhenAll(calls);

        Assert.Equal(1, handler.TokenCalls);
        Assert.All(handler.ApiRequests, r => Assert.Equal("Bearer token-1", r.Authorization));
    }

    [Fact]
    public async Task Token_request_uses_basic_client_authentication_and_the_sync_user_as_sub()
    {
        var handler = new ScriptedHandler(EmptyList);
        using var host = HarvestTestHost.ForHandler(handler, o => o.SyncUserId = 4080);

        await host.Client.ListSourcesAsync().ToListAsync();

        var token = handler.Requests.First(r => r.IsToken);
        Assert.Equal(HttpMethod.Post, token.Method);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("id:secret")), token.Authorization);
        Assert.Equal("grant_type=client_credentials&sub=4080", token.Body);
    }

    [Fact]
    public async Task Token_is_reused_until_shortly_before_expiry_then_replaced()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var handler = new ScriptedHandler(EmptyList);
        using var host = HarvestTestHost.ForHandler(handler, o => o.TokenRefreshMargin = TimeSpan.FromMinutes(2), time);

        await host.Client.ListSourcesAsync().ToListAsync();
        time.Advance(TimeSpan.FromMinutes(57));
        await host.Client.ListSourcesAsync().ToListAsync();
        Assert.Equal(1, handler.TokenCalls);

        time.Advance(TimeSpan.FromMinutes(1.5));
        await host.Client.ListSourcesAsync().ToListAsync();

        Assert.Equal(2, handler.TokenCalls);
        Assert.Equal("Bearer token-2", handler.ApiRequests.Last().Authorization);
        Assert.Equal(time.GetUtcNow().AddHours(1), host.Status.Current.TokenExpiresAt);
    }

    [Theory]
    [InlineData("""{"access_token":"t","token_type":"Bearer","expires_at":"2026-11-29T09:30:00Z"}""", 30)]
    [InlineData("""{"access_token":"t","token_type":"Bearer","expires_in":600}""", 10)]
    [InlineData("""{"access_token":"t","token_type":"Bearer","expires":"1200"}""", 20)]
    [InlineData("""{"access_token":"t","token_type":"Bearer"}""", 60)]
    public async Task Token_expiry_is_read_from_any_of_the_fields_seen_in_the_wild(string tokenBody, int minutes)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var handler = new ScriptedHandler(EmptyList) { Token = (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, tokenBody) };
        using var host = HarvestTestHost.ForHandler(handler, time: time);

        await host.Client.ListSourcesAsync().ToListAsync();

        Assert.Equal(time.GetUtcNow().AddMinutes(minutes), host.Status.Current.TokenExpiresAt);
    }

    [Fact]
    public async Task A_401_is_retried_once_with_a_fresh_token()
    {
        var handler = new ScriptedHandler((r, n) => r.Authorization == "Bearer token-1" ? ScriptedHandler.Json(HttpStatusCode.Unauthorized, """{"errors":["Unauthorized"]}""") : ScriptedHandler.Json(HttpStatusCode.OK, "[]"));
        using var host = HarvestTestHost.ForHandler(handler);

        var sources = await host.Client.ListSourcesAsync().ToListAsync();

        Assert.Empty(sources);
        Assert.Equal(2, handler.TokenCalls);
        Assert.Equal(["Bearer token-1", "Bearer token-2"], handler.ApiRequests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task A_second_401_with_a_fresh_token_is_reported_as_unauthorized()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json(HttpStatusCode.Unauthorized, """{"errors":["Unauthorized"]}"""));
        using var host = HarvestTestHost.ForHandler(handler);

        await Assert.ThrowsAsync<HarvestUnauthorizedException>(() => host.Client.ListSourcesAsync().ToListAsync().AsTask());

        Assert.Equal(2, handler.ApiCalls);
        Assert.False(host.Status.Current.Authenticated);
    }

    [Fact]
    public async Task The_previous_client_secret_is_used_when_the_current_one_is_rejected()
    {
        var previous = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("id:old-secret"));
        var handler = new ScriptedHandler(EmptyList)
        {
            Token = (r, n) => r.Authorization == previous
                ? ScriptedHandler.Json(HttpStatusCode.OK, """{"access_token":"from-previous","expires_in":3600}""")
                : ScriptedHandler.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"Client authentication failed."}"""),
        };
        using var host = HarvestTestHost.ForHandler(handler, credentials: new HarvestCredentials("id", "new-secret", "old-secret"));

        await host.Client.ListSourcesAsync().ToListAsync();

        Assert.Equal("Bearer from-previous", handler.ApiRequests.Single().Authorization);
        Assert.True(host.Status.Current.UsingPreviousClientSecret);
        Assert.True(host.Status.Current.Authenticated);
    }

    [Fact]
    public async Task Rejected_credentials_are_not_retried_until_the_backoff_passes_or_they_change()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var handler = new ScriptedHandler(EmptyList) { Token = (_, _) => ScriptedHandler.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""") };
        using var host = HarvestTestHost.ForHandler(handler, o => o.TokenFailureBackoff = TimeSpan.FromSeconds(30), time);

        var first = await Assert.ThrowsAsync<HarvestUnauthorizedException>(() => host.Client.ListSourcesAsync().ToListAsync().AsTask());
        await Assert.ThrowsAsync<HarvestUnauthorizedException>(() => host.Client.ListSourcesAsync().ToListAsync().AsTask());
        Assert.Equal(1, handler.TokenCalls);

        host.Credentials.Current = new HarvestCredentials("id", "fixed-secret");
        handler.Token = (_, n) => ScriptedHandler.Json(HttpStatusCode.OK, """{"access_token":"ok","expires_in":3600}""");
        await host.Client.ListSourcesAsync().ToListAsync();

        Assert.Equal("invalid_client", first.OAuthError);
        Assert.DoesNotContain("secret\"", first.Message, StringComparison.Ordinal);
        Assert.Equal(2, handler.TokenCalls);
        Assert.True(host.Status.Current.Authenticated);
        Assert.DoesNotContain(handler.ApiRequests, r => r.Authorization != "Bearer ok");
    }

    [Fact]
    public async Task Missing_credentials_are_reported_as_unauthorized_without_calling_harvest()
    {
        var handler = new ScriptedHandler(EmptyList);
        using var host = HarvestTestHost.ForHandler(handler);
        host.Credentials.Current = null;

        await Assert.ThrowsAsync<HarvestUnauthorizedException>(() => host.Client.GetCandidateAsync(1));

        Assert.Empty(handler.Requests);
        Assert.False(host.Status.Current.Authenticated);
    }
}
