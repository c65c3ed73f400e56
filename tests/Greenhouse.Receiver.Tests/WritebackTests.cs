using System.Net;
using System.Net.Http.Json;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Tests.Support;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Writeback;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Greenhouse;

namespace Greenhouse.Receiver.Tests;

/// <summary>Write-back gRPC against the Greenhouse simulator over loopback.</summary>
public sealed class WritebackTests : IAsyncLifetime
{
    private HarvestReceiver _h = null!;
    private long _candidate;

    public async Task InitializeAsync()
    {
        _h = await HarvestReceiver.StartAsync(candidates: 5);
        _candidate = _h.Greenhouse.CandidateIds[0];
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private Greenhouse.Contracts.Receiver.V1.Writeback.WritebackClient Client => _h.Receiver.Writeback;

    private AddNoteRequest Note(string id, string body = "Met at RustConf") =>
        new() { ClientRequestId = id, CandidateId = _candidate, Body = body, Visibility = NoteVisibility.Private };

    [Fact]
    public async Task Write_back_retried_with_the_same_request_id_creates_one_note_as_the_sync_user()
    {
        var first = await Client.AddNoteAsync(Note("note-1"));
        var again = await Client.AddNoteAsync(Note("note-1"));

        Assert.False(first.Replayed);
        Assert.True(again.Replayed);
        Assert.Equal(first.GreenhouseId, again.GreenhouseId);
        var note = Assert.Single(_h.Greenhouse.GetNotes(_candidate));
        Assert.Equal(first.GreenhouseId, note["id"]!.GetValue<long>());
        Assert.Equal(_h.Greenhouse.SyncUserId, note["user_id"]!.GetValue<long>());
        Assert.Equal("privately_visible", note["visibility"]!.GetValue<string>());
    }

    [Fact]
    public async Task Retry_after_a_crash_between_sending_and_recording_finds_the_note_and_does_not_post_twice()
    {
        // The state a crash leaves behind: the outbox entry is stored, Harvest wrote the note, no result was recorded.
        var outbox = _h.Receiver.Services.GetRequiredService<WritebackOutbox>();
        var request = Note("crash-1", "Written before the crash");
        Assert.Null(await outbox.BeginAsync("crash-1", "add_note", WritebackApi.Hash("add_note", request), _candidate));
        var written = await _h.Receiver.Services.GetRequiredService<IHarvestClient>().AddNoteAsync(new HarvestNoteRequest(_candidate, "Written before the crash", "privately_visible"));

        var retried = await Client.AddNoteAsync(request);

        Assert.True(retried.Replayed);
        Assert.Equal(written.Id, retried.GreenhouseId);
        Assert.Single(_h.Greenhouse.GetNotes(_candidate));
    }

    [Fact]
    public async Task Same_request_id_with_a_different_body_is_refused()
    {
        await Client.AddNoteAsync(Note("note-2", "first"));
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.AddNoteAsync(Note("note-2", "second")).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Single(_h.Greenhouse.GetNotes(_candidate));
    }

    [Theory]
    [InlineData("", 1, "body", "client_request_id: is required")]
    [InlineData("v1", 0, "body", "candidate_id: must be a positive")]
    [InlineData("v2", 1, " ", "body: is required")]
    public async Task Invalid_input_is_refused_with_the_field_named(string id, long candidate, string body, string expected)
    {
        var request = new AddNoteRequest { ClientRequestId = id, CandidateId = candidate == 1 ? _candidate : candidate, Body = body };
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.AddNoteAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(expected, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Harvest_failures_map_to_precise_status_codes()
    {
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Client.AddNoteAsync(new AddNoteRequest { ClientRequestId = "u1", CandidateId = 999_999_999, Body = "x" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
        Assert.Contains("candidate_id: does not exist", unknown.Status.Detail, StringComparison.Ordinal);

        var client = _h.Greenhouse.DefaultClient;
        _h.Greenhouse.SetClient(client with { Scopes = [.. client.Scopes.Where(s => s != "harvest:notes:create")] });
        var forbidden = await Assert.ThrowsAsync<RpcException>(() => Client.AddNoteAsync(Note("f1")).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, forbidden.StatusCode);
        Assert.Contains("harvest:notes:create", forbidden.Status.Detail, StringComparison.Ordinal);

        _h.Greenhouse.SetClient(client);
        _h.Greenhouse.Faults.FailNext(10);
        var unavailable = await Assert.ThrowsAsync<RpcException>(() => Client.AddNoteAsync(Note("f2")).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, unavailable.StatusCode);
        _h.Greenhouse.Faults.FailNext(0);
        // The same id works once Harvest is back, and writes once.
        Assert.False((await Client.AddNoteAsync(Note("f2"))).Replayed);
        Assert.Single(_h.Greenhouse.GetNotes(_candidate));
    }

    [Fact]
    public async Task Tags_email_notes_and_prospects_are_written_and_the_mirror_follows()
    {
        await Client.AddTagsAsync(new AddTagsRequest { ClientRequestId = "t1", CandidateId = _candidate, Tags = { "Rust", "Speaker" } });
        await Eventually.TrueAsync(() => _h.Mirror.Get(_candidate) is { } c && c.Tags.Contains("Rust") && c.Tags.Contains("Speaker"), "the mirror shows the new tags");
        await Client.RemoveTagAsync(new RemoveTagRequest { ClientRequestId = "t2", CandidateId = _candidate, Tag = "Speaker" });
        await Eventually.TrueAsync(() => _h.Mirror.Get(_candidate) is { } c && !c.Tags.Contains("Speaker"), "the mirror drops the removed tag");

        var email = await Client.AddEmailNoteAsync(new AddEmailNoteRequest
        {
            ClientRequestId = "m1", CandidateId = _candidate, To = "jane@example.com", From = "recruiter@example.com", Subject = "Hello", Body = "Let's talk",
        });
        Assert.Contains(_h.Greenhouse.GetNotes(_candidate), n => n["id"]!.GetValue<long>() == email.GreenhouseId && n["type"]?.GetValue<string>() == "EMAIL");

        var prospect = await Client.AddProspectAsync(new AddProspectRequest { ClientRequestId = "p1", CandidateId = _candidate });
        Assert.Contains(_h.Greenhouse.GetApplications(_candidate), a => a["id"]!.GetValue<long>() == prospect.GreenhouseId && a["prospect"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Notes_can_be_written_through_JSON_transcoding()
    {
        var response = await _h.Receiver.Api.PostAsJsonAsync($"/v1/candidates/{_candidate}/notes", new { clientRequestId = "json-1", body = "Via JSON" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var again = await _h.Receiver.Api.PostAsJsonAsync($"/v1/candidates/{_candidate}/notes", new { clientRequestId = "json-1", body = "Via JSON" });
        Assert.True((await again.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("replayed").GetBoolean());
        Assert.Single(_h.Greenhouse.GetNotes(_candidate));
    }
}
