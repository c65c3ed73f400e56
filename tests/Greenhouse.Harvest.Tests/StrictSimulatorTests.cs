using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Sandbox.Greenhouse;

namespace Greenhouse.Harvest.Tests;

/// <summary>The client against the simulator's strict mode and against next links off Harvest's origin.</summary>
public sealed class StrictSimulatorTests
{
    private static readonly SimulatedClient Awkward = new("client+id/1", "s3cr%t:with+special/chars=", SimulatedClient.AllScopes);

    private static GreenhouseSimulatorOptions Strict(int candidates = 3)
    {
        var options = new GreenhouseSimulatorOptions { CandidateCount = candidates, Strict = true };
        options.Clients.Add(Awkward);
        return options;
    }

    [Fact]
    public async Task The_client_encodes_awkward_credentials_and_its_write_bodies_pass_strict_mode()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(Strict());
        using var host = HarvestTestHost.ForSimulator(simulator, credentials: new HarvestCredentials(Awkward.ClientId, Awkward.ClientSecret));
        var id = simulator.CandidateIds[0];

        await host.Client.AddNoteAsync(new HarvestNoteRequest(id, "Met at a meetup"));
        await host.Client.AddEmailNoteAsync(new HarvestEmailNoteRequest(id, "Hello", "Body", "a@example.com", "b@example.com", ["c@example.com"]));
        await host.Client.AddTagsAsync(id, ["strict"]);
        await host.Client.AddProspectAsync(new HarvestProspectRequest(id, [1]));

        Assert.Equal(2, simulator.GetNotes(id).Count);
        Assert.True(host.Client.Status.Authenticated);
    }

    [Fact]
    public async Task Strict_mode_refuses_raw_basic_credentials_and_unknown_body_properties()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(Strict());
        using var http = new HttpClient();

        using var raw = new HttpRequestMessage(HttpMethod.Post, simulator.TokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        raw.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Awkward.ClientId}:{Awkward.ClientSecret}")));
        using (var refused = await http.SendAsync(raw))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var encoded = new HttpRequestMessage(HttpMethod.Post, simulator.TokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        encoded.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{Uri.EscapeDataString(Awkward.ClientId)}:{Uri.EscapeDataString(Awkward.ClientSecret)}")));
        using var token = await http.SendAsync(encoded);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        var accessToken = System.Text.Json.JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();

        using var note = new HttpRequestMessage(HttpMethod.Post, new Uri(simulator.HarvestBaseUrl + "/notes"))
        {
            Content = new StringContent($$"""{"candidate_id":{{simulator.CandidateIds[0]}},"body":"x","mood":"cheerful"}""", Encoding.UTF8, "application/json"),
        };
        note.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var unknown = await http.SendAsync(note);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.StatusCode);
        Assert.Contains("mood", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(simulator.GetNotes(simulator.CandidateIds[0]));
    }

    [Fact]
    public async Task A_next_link_to_another_host_is_refused_and_one_on_harvests_origin_is_followed()
    {
        var options = new GreenhouseSimulatorOptions { CandidateCount = 600 };
        await using var simulator = await GreenhouseSimulator.StartAsync(options);
        options.NextLinkBaseUrl = new Uri($"http://localhost:{simulator.HarvestBaseUrl.Port}/v3");
        using (var host = HarvestTestHost.ForSimulator(simulator))
        {
            var error = await Assert.ThrowsAsync<HarvestException>(async () => await host.Client.ListCandidatesAsync().CountAsync());
            Assert.Contains("another origin", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(simulator.Requests, r => r.PathAndQuery.Contains("cursor=", StringComparison.Ordinal));
        }

        // The same origin spelled with upper-case host and scheme is Harvest's own: followed.
        options.NextLinkBaseUrl = new Uri($"HTTP://127.0.0.1:{simulator.HarvestBaseUrl.Port}/v3");
        using (var host = HarvestTestHost.ForSimulator(simulator))
        {
            Assert.Equal(600, (await host.Client.ListAllCandidateIdsAsync().ToListAsync()).Count);
        }
    }
}
