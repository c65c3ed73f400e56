using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.Greenhouse.Tests;

public sealed class HarvestSimulatorTests
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task Token_endpoint_issues_an_expiring_bearer_token_for_valid_client_credentials()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });

        using var response = await RequestTokenAsync(simulator, "sandbox-client", "sandbox-secret", simulator.SyncUserId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("Bearer", body["token_type"]!.GetValue<string>());
        Assert.Equal(3, body["access_token"]!.GetValue<string>().Split('.').Length);
        var expiresAt = DateTimeOffset.Parse(body["expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
    }

    [Fact]
    public async Task Wrong_client_secret_gets_the_oauth_invalid_client_error()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });

        using var response = await RequestTokenAsync(simulator, "sandbox-client", "wrong", simulator.SyncUserId);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("invalid_client", body["error"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["error_description"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Previous_client_secret_keeps_working_during_a_rotation()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        simulator.SetClient(simulator.DefaultClient with { ClientSecret = "new-secret", PreviousClientSecret = "sandbox-secret" });

        using var previous = await RequestTokenAsync(simulator, "sandbox-client", "sandbox-secret", null);
        using var current = await RequestTokenAsync(simulator, "sandbox-client", "new-secret", null);
        using var other = await RequestTokenAsync(simulator, "sandbox-client", "older-secret", null);

        Assert.Equal(HttpStatusCode.OK, previous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
    }

    [Fact]
    public async Task An_outage_answers_every_harvest_request_with_its_status_until_cleared_while_tokens_are_still_issued()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        var token = await TokenAsync(simulator);
        var candidates = new Uri(simulator.HarvestBaseUrl + "/candidates");

        simulator.Faults.OutageStatus = 401;
        using (var refused = await GetAsync(candidates, token))
        using (var again = await GetAsync(candidates, await TokenAsync(simulator)))
        {
            Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (refused.StatusCode, again.StatusCode));
            Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        simulator.Faults.OutageStatus = 429;
        using (var throttled = await GetAsync(candidates, token))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), throttled.Headers.RetryAfter!.Delta);
        }

        simulator.Faults.OutageStatus = null;
        using var answered = await GetAsync(candidates, token);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Throws<ArgumentOutOfRangeException>(() => simulator.Faults.OutageStatus = 200);
    }

    [Fact]
    public async Task Candidates_are_paged_by_cursor_in_descending_id_order_covering_each_candidate_once()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 250 });
        var token = await TokenAsync(simulator);

        var ids = new List<long>();
        var next = new Uri(simulator.HarvestBaseUrl + "/candidates?per_page=100");
        var pages = 0;
        while (next is not null)
        {
            using var response = await GetAsync(next, token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ids.AddRange(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(c => c!["id"]!.GetValue<long>()));
            pages++;
            next = response.Headers.TryGetValues("Link", out var links) ? new Uri(links.Single().Split('<', '>')[1]) : null;
            if (next is not null)
            {
                Assert.Equal("?cursor=", next.Query[..8]);
                Assert.DoesNotContain("&", next.Query, StringComparison.Ordinal);
            }
        }

        Assert.Equal(3, pages);
        Assert.Equal(simulator.CandidateIds.Order(), ids.Order());
        Assert.Equal(ids.OrderDescending(), ids);
    }

    [Fact]
    public async Task A_cursor_combined_with_another_parameter_is_rejected_with_422()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 20 });
        var token = await TokenAsync(simulator);
        using var first = await GetAsync(new Uri(simulator.HarvestBaseUrl + "/candidates?per_page=5"), token);
        var next = first.Headers.GetValues("Link").Single().Split('<', '>')[1];

        using var response = await GetAsync(new Uri(next + "&per_page=5"), token);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("When passing a cursor, do not include other query params.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_query_parameters_and_out_of_range_page_sizes_are_rejected_with_422()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        var token = await TokenAsync(simulator);

        using var unknown = await GetAsync(new Uri(simulator.HarvestBaseUrl + "/candidates?updated_after=2024-01-01"), token);
        using var tooLarge = await GetAsync(new Uri(simulator.HarvestBaseUrl + "/candidates?per_page=501"), token);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.StatusCode);
        Assert.Contains("Invalid query params: updated_after", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLarge.StatusCode);
    }

    [Fact]
    public async Task Updated_at_filter_returns_only_candidates_changed_in_the_window()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 50 });
        var token = await TokenAsync(simulator);
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var changed = simulator.CandidateIds[7];
        simulator.UpdateCandidate(changed, c => c["title"] = "Staff Engineer", WebhookSendMode.None);

        var window = Uri.EscapeDataString($"gte|{since:yyyy-MM-ddTHH:mm:ss.fffZ}|lte|{DateTimeOffset.UtcNow.AddMinutes(1):yyyy-MM-ddTHH:mm:ss.fffZ}");
        using var response = await GetAsync(new Uri($"{simulator.HarvestBaseUrl}/candidates?updated_at={window}"), token);

        var items = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        var only = Assert.Single(items);
        Assert.Equal(changed, only!["id"]!.GetValue<long>());
        Assert.Equal("Staff Engineer", only["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Responses_carry_rate_limit_headers_and_requests_over_the_limit_get_429_with_retry_after()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1, RateLimit = 3, RateLimitWindow = TimeSpan.FromMinutes(10) });
        var token = await TokenAsync(simulator);
        var url = new Uri(simulator.HarvestBaseUrl + "/sources");

        var remaining = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await GetAsync(url, token);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", ok.Headers.GetValues("X-RateLimit-Limit").Single());
            Assert.True(long.Parse(ok.Headers.GetValues("X-RateLimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            remaining.Add(ok.Headers.GetValues("X-RateLimit-Remaining").Single());
        }

        using var limited = await GetAsync(url, token);

        Assert.Equal(["2", "1", "0"], remaining);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(1, simulator.Statistics.Throttled);
    }

    [Fact]
    public async Task A_scope_the_client_lost_is_refused_with_403_naming_it_even_for_an_existing_token()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        var token = await TokenAsync(simulator);
        simulator.SetClient(simulator.DefaultClient with { Scopes = [.. SimulatedClient.AllScopes.Where(s => s != "harvest:candidates:list")] });

        using var response = await GetAsync(new Uri(simulator.HarvestBaseUrl + "/candidates"), token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("harvest:candidates:list", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_gets_401()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        var token = await TokenAsync(simulator);
        simulator.ExpireTokens();

        using var response = await GetAsync(new Uri(simulator.HarvestBaseUrl + "/sources"), token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_note_is_attributed_to_the_user_of_the_token()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        var token = await TokenAsync(simulator);
        var candidate = simulator.CandidateIds[0];

        using var request = new HttpRequestMessage(HttpMethod.Post, simulator.HarvestBaseUrl + "/notes")
        {
            Content = new StringContent($$"""{"candidate_id":{{candidate}},"user_id":4081,"body":"Met at the meetup","visibility":"admin_only_visible","type":"NOTE"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var note = Assert.Single(simulator.GetNotes(candidate));
        Assert.Equal(simulator.SyncUserId, note["user_id"]!.GetValue<long>());
        Assert.Equal("Met at the meetup", note["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task Seeded_data_is_the_same_for_the_same_seed_and_has_realistic_contacts()
    {
        await using var first = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 30, Seed = 7 });
        await using var second = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 30, Seed = 7 });

        var a = first.GetCandidate(first.CandidateIds[3])!;
        var b = second.GetCandidate(second.CandidateIds[3])!;

        Assert.Equal(a["email_addresses"]!.ToJsonString(), b["email_addresses"]!.ToJsonString());
        Assert.Equal(a["social_media_addresses"]!.ToJsonString(), b["social_media_addresses"]!.ToJsonString());
        Assert.Matches("^[^@\\s]+@[^@\\s]+\\.[a-z]+$", a["email_addresses"]![0]!["value"]!.GetValue<string>());
        Assert.StartsWith("https://www.linkedin.com/in/", a["social_media_addresses"]![0]!["value"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(first.CandidateIds.All(id => id > int.MaxValue), "ids exceed 32 bits like real Greenhouse ids");
    }

    private static async Task<HttpResponseMessage> RequestTokenAsync(GreenhouseSimulator simulator, string clientId, string secret, long? sub)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (sub is { } user)
        {
            form["sub"] = user.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, simulator.TokenUrl) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return await Http.SendAsync(request);
    }

    private static async Task<string> TokenAsync(GreenhouseSimulator simulator)
    {
        using var response = await RequestTokenAsync(simulator, "sandbox-client", "sandbox-secret", simulator.SyncUserId);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
    }

    private static async Task<HttpResponseMessage> GetAsync(Uri url, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Http.SendAsync(request);
    }
}
