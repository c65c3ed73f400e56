using System.Net;

namespace Greenhouse.Harvest.Tests;

public sealed class ClientTests
{
    [Fact]
    public async Task Paging_follows_the_next_link_exactly_and_stops_when_it_is_absent()
    {
        const string second = "https://harvest.test/v3/candidates?cursor=eyJxIjoidXBkYXRlZF9hdCJ9%3D%3D";
        const string third = "https://harvest.test/v3/candidates?cursor=Zm9vYmFy-_";
        var handler = new ScriptedHandler((r, n) =>
        {
            var response = ScriptedHandler.Json(HttpStatusCode.OK, $$"""[{"id":{{n}}}]""");
            if (n == 1)
            {
                response.Headers.TryAddWithoutValidation("Link", $"<{second}>; rel=\"next\"");
            }
            else if (n == 2)
            {
                response.Headers.TryAddWithoutValidation("Link", $"<{third}>; rel=\"next\"");
            }

            return response;
        });
        using var host = HarvestTestHost.ForHandler(handler, o => o.PageSize = 200);

        var ids = await host.Client.ListAllCandidateIdsAsync().ToListAsync();

        Assert.Equal([1L, 2L, 3L], ids);
        var uris = handler.ApiRequests.Select(r => r.Uri.OriginalString).ToList();
        Assert.Equal("https://harvest.test/v3/candidates?per_page=200&fields=id", uris[0]);
        Assert.Equal([second, third], uris.Skip(1));
    }

    [Fact]
    public async Task Incremental_listing_sends_an_updated_at_window_in_the_pipe_syntax()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json(HttpStatusCode.OK, "[]"));
        using var host = HarvestTestHost.ForHandler(handler);
        var since = DateTimeOffset.Parse("2026-11-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

        await host.Client.ListCandidatesUpdatedSinceAsync(since, since.AddHours(1)).ToListAsync();

        var uri = handler.ApiRequests.Single().Uri;
        Assert.Equal("/v3/candidates", uri.AbsolutePath);
        Assert.Equal("?updated_at=gte%7C2026-11-01T10%3A00%3A00.000Z%7Clte%7C2026-11-01T11%3A00%3A00.000Z&per_page=500", uri.Query);
    }

    [Fact]
    public async Task A_next_link_to_another_host_is_refused_so_the_token_stays_home()
    {
        var handler = new ScriptedHandler((_, _) =>
        {
            var response = ScriptedHandler.Json(HttpStatusCode.OK, "[]");
            response.Headers.TryAddWithoutValidation("Link", "<https://evil.test/v3/candidates?cursor=x>; rel=\"next\"");
            return response;
        });
        using var host = HarvestTestHost.ForHandler(handler);

        var error = await Assert.ThrowsAsync<HarvestException>(() => host.Client.ListCandidatesAsync().ToListAsync().AsTask());

        Assert.Contains("evil.test", error.Message, StringComparison.Ordinal);
        Assert.Single(handler.ApiRequests);
    }

    [Fact]
    public async Task Candidates_with_nulls_and_unknown_fields_are_read()
    {
        const string body = """
            [{"id":4981013006,"created_at":null,"updated_at":"2026-11-28T10:00:00.000Z","first_name":"Zoë","last_name":null,
              "private":null,"can_email":null,"tags":null,"linked_user_ids":null,"phone_numbers":null,"addresses":[],
              "email_addresses":[{"value":"zoe@example.com","type":"personal"}],"website_addresses":null,
              "social_media_addresses":[{"value":"https://github.com/zoe"}],"custom_fields":{"salary":{"name":"Salary","type":"currency","value":{"amount":1,"unit":"EUR"}},"empty":null},
              "brand_new_field":{"nested":[1,2,3]},"last_activity_at":null}]
            """;
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json(HttpStatusCode.OK, body));
        using var host = HarvestTestHost.ForHandler(handler);

        var candidate = await host.Client.GetCandidateAsync(4981013006);

        Assert.NotNull(candidate);
        Assert.Equal("Zoë", candidate.FirstName);
        Assert.Equal(default, candidate.CreatedAt);
        Assert.Empty(candidate.Tags);
        Assert.Empty(candidate.PhoneNumbers);
        Assert.Equal("zoe@example.com", candidate.EmailAddresses.Single().Value);
        Assert.Null(candidate.SocialMediaAddresses.Single().Type);
        Assert.Equal(1, candidate.CustomFields["salary"].Value.GetProperty("amount").GetInt32());
        Assert.Equal("/v3/candidates?ids=4981013006&per_page=50", handler.ApiRequests.Single().Uri.PathAndQuery);
    }

    [Fact]
    public async Task Asking_for_more_than_fifty_ids_is_split_into_requests_of_fifty()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json(HttpStatusCode.OK, "[]"));
        using var host = HarvestTestHost.ForHandler(handler);

        await host.Client.GetCandidatesAsync(Enumerable.Range(1, 120).Select(i => (long)i));

        Assert.Equal([50, 50, 20], handler.ApiRequests.Select(r => System.Web.HttpUtility.ParseQueryString(r.Uri.Query)["ids"]!.Split(',').Length));
    }

    [Fact]
    public async Task A_403_names_the_missing_scope_and_the_status_lists_it_until_it_works_again()
    {
        var refuse = true;
        var handler = new ScriptedHandler((_, _) => refuse ? ScriptedHandler.Json(HttpStatusCode.Forbidden, """{"errors":["Forbidden"]}""") : ScriptedHandler.Json(HttpStatusCode.OK, "[]"));
        using var host = HarvestTestHost.ForHandler(handler);

        var error = await Assert.ThrowsAsync<HarvestForbiddenException>(() => host.Client.ListNotesAsync(1));
        var whileMissing = host.Status.Current.MissingScopes;
        refuse = false;
        await host.Client.ListNotesAsync(1);

        Assert.Equal("harvest:notes:list", error.Scope);
        Assert.Contains("harvest:notes:list", error.Message, StringComparison.Ordinal);
        Assert.Equal(["harvest:notes:list"], whileMissing);
        Assert.Empty(host.Status.Current.MissingScopes);
    }

    [Fact]
    public async Task A_422_exposes_each_field_error()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json((HttpStatusCode)422, """{"message":"Validation error","errors":[{"field":"body","message":"can't be blank"},{"field":"visibility","message":"is invalid"}]}"""));
        using var host = HarvestTestHost.ForHandler(handler);

        var error = await Assert.ThrowsAsync<HarvestValidationException>(() => host.Client.AddNoteAsync(new HarvestNoteRequest(1, " ")));

        Assert.Equal([new HarvestFieldError("body", "can't be blank"), new HarvestFieldError("visibility", "is invalid")], error.Errors);
    }

    [Fact]
    public async Task A_422_with_plain_string_errors_is_read_too()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json((HttpStatusCode)422, """{"errors":["When passing a cursor, do not include other query params."]}"""));
        using var host = HarvestTestHost.ForHandler(handler);

        var error = await Assert.ThrowsAsync<HarvestValidationException>(() => host.Client.ListCandidatesAsync().ToListAsync().AsTask());

        Assert.Equal("When passing a cursor, do not include other query params.", Assert.Single(error.Errors).Message);
    }

    [Fact]
    public async Task Server_errors_on_reads_are_retried_and_then_reported_as_unavailable()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json(HttpStatusCode.BadGateway, "<html>bad gateway</html>"));
        using var host = HarvestTestHost.ForHandler(handler, o => o.MaxTransientRetries = 2);

        var error = await Assert.ThrowsAsync<HarvestUnavailableException>(() => host.Client.GetCandidateAsync(5));

        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Equal(3, handler.ApiCalls);
        Assert.NotNull(host.Status.Current.LastError);
    }

    [Fact]
    public async Task A_note_is_not_posted_twice_when_its_answer_is_a_server_error()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json(HttpStatusCode.InternalServerError, "{}"));
        using var host = HarvestTestHost.ForHandler(handler, o => o.MaxTransientRetries = 3);

        await Assert.ThrowsAsync<HarvestUnavailableException>(() => host.Client.AddNoteAsync(new HarvestNoteRequest(1, "hello")));

        Assert.Equal(1, handler.ApiCalls);
    }

    [Fact]
    public async Task Every_call_is_reported_with_its_operation_and_final_status()
    {
        var handler = new ScriptedHandler((r, _) => r.Uri.AbsolutePath.EndsWith("/users", StringComparison.Ordinal)
            ? ScriptedHandler.Json(HttpStatusCode.OK, "[]")
            : ScriptedHandler.Json(HttpStatusCode.NotFound, "{}"));
        using var host = HarvestTestHost.ForHandler(handler);
        var reported = new List<HarvestRequestCompletedEventArgs>();
        host.Status.RequestCompleted += (_, e) => reported.Add(e);

        await host.Client.ListUsersAsync().ToListAsync();
        await Assert.ThrowsAsync<HarvestNotFoundException>(() => host.Client.ListSourcesAsync().ToListAsync().AsTask());

        Assert.Equal([("list users", (HttpStatusCode?)HttpStatusCode.OK), ("list sources", HttpStatusCode.NotFound)], reported.Select(e => (e.Operation, e.StatusCode)));
    }

    [Fact]
    public async Task A_404_is_reported_as_not_found()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json(HttpStatusCode.NotFound, """{"errors":["Not Found"]}"""));
        using var host = HarvestTestHost.ForHandler(handler);

        await Assert.ThrowsAsync<HarvestNotFoundException>(() => host.Client.ListUsersAsync().ToListAsync().AsTask());
    }

    [Fact]
    public async Task Notes_are_written_as_the_sync_user_with_the_documented_fields()
    {
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Json(HttpStatusCode.Created, """{"id":9,"type":"EMAIL","user_id":4080}"""));
        using var host = HarvestTestHost.ForHandler(handler, o => o.SyncUserId = 4080);

        var note = await host.Client.AddEmailNoteAsync(new HarvestEmailNoteRequest(7, "Hello", "Body", "me@example.com", "you@example.com", ["cc@example.com"]));

        Assert.Equal(9, note.Id);
        var sent = System.Text.Json.JsonDocument.Parse(handler.ApiRequests.Single().Body!).RootElement;
        Assert.Equal(7, sent.GetProperty("candidate_id").GetInt64());
        Assert.Equal(4080, sent.GetProperty("user_id").GetInt64());
        Assert.Equal("EMAIL", sent.GetProperty("type").GetString());
        Assert.Equal("you@example.com", sent.GetProperty("email_to").GetString());
        Assert.Equal("cc@example.com", sent.GetProperty("email_cc")[0].GetString());
    }

    [Theory]
    [InlineData("<https://h/v3/c?cursor=a>; rel=\"next\"", "https://h/v3/c?cursor=a")]
    [InlineData("<https://h/v3/c?cursor=p>; rel=\"prev\", <https://h/v3/c?cursor=n>; rel=\"next\"", "https://h/v3/c?cursor=n")]
    [InlineData("<https://h/v3/c?cursor=a,b>; rel=next", "https://h/v3/c?cursor=a,b")]
    [InlineData("<https://h/v3/c?cursor=p>; rel=\"prev\"", null)]
    [InlineData("", null)]
    public void Link_header_next_target_is_found(string header, string? expected) =>
        Assert.Equal(expected, LinkHeader.FindNext(header));
}
