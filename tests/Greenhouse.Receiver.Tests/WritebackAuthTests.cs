using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Receiver.Tests.Support;
using Grpc.Core;

namespace Greenhouse.Receiver.Tests;

/// <summary>Write-back (Harvest mode) needs the writeback scope; a read grant is not enough.</summary>
public sealed class WritebackAuthTests
{
    private const string Audience = "greenhouse-receiver/team-a/acme";

    [Fact]
    public async Task Write_back_is_permission_denied_without_the_writeback_scope_and_allowed_with_it()
    {
        await using var issuer = await TestTokenIssuer.StartAsync();
        await using var h = await HarvestReceiver.StartAsync(candidates: 3, extraArgs:
        [
            "--Api:Auth:Mode=KubernetesServiceAccount",
            $"--Api:Auth:ApiServer={issuer.Url}",
            $"--Api:Auth:Audience={Audience}",
            "--Api:Clients:0:ServiceAccount:Namespace=crm",
            "--Api:Clients:0:ServiceAccount:Name=reader",
            "--Api:Clients:0:Scopes=read",
            "--Api:Clients:1:ServiceAccount:Namespace=crm",
            "--Api:Clients:1:ServiceAccount:Name=writer",
            "--Api:Clients:1:Scopes=read,writeback",
        ]);
        var note = new AddNoteRequest { ClientRequestId = "auth-note-1", CandidateId = h.Greenhouse.CandidateIds[0], Body = "Met at RustConf", Visibility = NoteVisibility.Private };

        var denied = await Assert.ThrowsAsync<RpcException>(async () =>
            await h.Receiver.Writeback.AddNoteAsync(note, new Metadata { { "authorization", "Bearer " + issuer.Mint("crm", "reader", Audience) } }));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("writeback", denied.Status.Detail, StringComparison.Ordinal);

        var written = await h.Receiver.Writeback.AddNoteAsync(note, new Metadata { { "authorization", "Bearer " + issuer.Mint("crm", "writer", Audience) } });
        Assert.False(written.Replayed);
        Assert.True(written.GreenhouseId > 0);
    }
}
