using System.Text;
using System.Text.Json;
using Greenhouse.Receiver.Tests.Support;
using Greenhouse.Receiver.Webhooks;

namespace Greenhouse.Receiver.Tests;

/// <summary>The real process's console: JSON lines only, and the unsigned event id header never in it as sent.</summary>
public sealed class LogSafetyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ghr-log-").FullName;

    public void Dispose() => TempFolders.Delete(_root);

    [Fact]
    public async Task Event_id_with_control_characters_never_appears_raw_in_the_log_and_every_line_is_json()
    {
        var secrets = Path.Combine(_root, "secrets");
        _ = new SecretsMount(secrets, TestReceiver.Secret);
        await using var receiver = await ReceiverProcess.StartAsync(secrets, Path.Combine(_root, "data"), "--Api:Auth:Mode=None");
        // A candidate event without a numeric id can never apply: it is dead-lettered, and that is logged with its event id.
        var body = """{"action":"update_candidate","payload":{"candidate":{"id":"not-a-number"}}}""";
        const string evil = "evil\u001b[31m\u0007\"}{\"level\":\"forged\" x";
        var signature = WebhookSignature.Sign(Encoding.UTF8.GetBytes(body), Encoding.UTF8.GetBytes(TestReceiver.Secret));
        await using (var raw = await RawHttp.ConnectAsync(receiver.Public.BaseAddress!.Port))
        {
            await raw.SendAsync("POST /webhooks/greenhouse HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + $"Signature: {signature}\r\nGreenhouse-Event-ID: {evil}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
            var answer = await raw.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));
            Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
            Assert.Contains("accepted", answer, StringComparison.Ordinal);
        }
        var stored = WebhookEventId.From(evil, Encoding.UTF8.GetBytes(body));
        await Eventually.TrueAsync(() => receiver.Output.Contains("dead letters", StringComparison.Ordinal), "the poison event is dead-lettered and logged");

        var output = receiver.Output;
        Assert.Contains(stored, output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u0007", output, StringComparison.Ordinal);
        Assert.DoesNotContain("evil", output, StringComparison.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var document = JsonDocument.Parse(line);
            Assert.True(document.RootElement.TryGetProperty("LogLevel", out _), line);
            Assert.NotEqual("forged", document.RootElement.GetProperty("LogLevel").GetString());
        }
    }
}
