using System.Text;
using System.Text.Json;
using Greenhouse.Receiver.Tests.Support;
using Greenhouse.Receiver.Webhooks;

namespace Greenhouse.Receiver.Tests;

public sealed class WebhookEnvelopeTests
{
    [WebhookExamplesFact(nameof(Action_is_read_from_the_top_level_whatever_else_the_body_holds))]
    public void Every_shared_example_yields_its_documented_action()
    {
        var files = Directory.GetFiles(RepositoryPaths.WebhookExamples!, "*.json");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var body = File.ReadAllBytes(file);
            var action = WebhookEnvelope.ReadAction(body, out var problem);
            Assert.True(action is not null, $"{Path.GetFileName(file)}: {problem}");
            Assert.Equal(JsonDocument.Parse(body).RootElement.GetProperty("action").GetString(), action);
            Assert.True(WebhookActions.IsDocumented(action!), action);
        }
    }

    [Theory]
    [InlineData("""{"action":"update_candidate","payload":{}}""", "update_candidate")]
    [InlineData("""{"payload":{"x":[1,2,{"action":"nested"}]},"brand_new_field":null,"action":"job_created"}""", "job_created")]
    [InlineData("""{"action":"some_future_action","payload":null}""", "some_future_action")]
    [InlineData("""{"action":"ping","payload":{"web_hook_id":1}}""", "ping")]
    [InlineData("""{"action":"update_candidate","payload":{"note":"\u003cscript\u003e"}}""", "update_candidate")]
    public void Action_is_read_from_the_top_level_whatever_else_the_body_holds(string json, string expected)
    {
        Assert.Equal(expected, WebhookEnvelope.ReadAction(Encoding.UTF8.GetBytes(json), out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"action":""")]
    [InlineData("""{"action":"update_candidate""")]
    [InlineData("""{"payload":{"candidate":{"id":5,""")]
    [InlineData("""{"payload":[}],"action":"update_candidate"}""")]
    [InlineData("""{"payload":{}} trailing""")]
    [InlineData("""{"payload":{}}""")]
    [InlineData("""{"action":null}""")]
    [InlineData("""{"action":42}""")]
    [InlineData("""{"action":""}""")]
    [InlineData("""{"payload":{"action":"update_candidate"}}""")]
    public void Malformed_bodies_and_bodies_without_a_string_action_are_rejected(string json)
    {
        Assert.Null(WebhookEnvelope.ReadAction(Encoding.UTF8.GetBytes(json), out var problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    /// <summary>
    /// Reading stops at the action: what follows it is not read at ingest (the processor parses the
    /// whole body and dead-letters one that is not JSON), so a body that breaks off or goes wrong
    /// after its action still yields it. Everything before the action is read and checked.
    /// </summary>
    [Theory]
    [InlineData("""{"action":"update_candidate",""")]
    [InlineData("""{"action":"update_candidate"} trailing""")]
    [InlineData("""{"action":"update_candidate","payload":{"candidate":{"id":5,"tags":[}}}""")]
    [InlineData("""{"action":"update_candidate","payload":""" + "\u0001")]
    [InlineData("""{"payload":{"candidate":{"id":5}},"action":"update_candidate","payload":{""")]
    public void Reading_stops_at_the_action(string json)
    {
        Assert.Equal("update_candidate", WebhookEnvelope.ReadAction(Encoding.UTF8.GetBytes(json), out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void A_documented_action_is_the_shared_string_and_any_other_is_read_as_written()
    {
        // No string is made per delivery for an action Greenhouse documents (or ping).
        Assert.Same(WebhookActions.UpdateCandidate, WebhookEnvelope.ReadAction("""{"action":"update_candidate","payload":{}}"""u8, out _));
        Assert.Same(WebhookActions.Ping, WebhookEnvelope.ReadAction("""{"action":"ping"}"""u8, out _));
        Assert.Same(WebhookActions.All.Single(a => a == "job_post_deleted"), WebhookEnvelope.ReadAction("""{"action":"job_post_deleted"}"""u8, out _));
        Assert.Equal(WebhookActions.UpdateCandidate, WebhookEnvelope.ReadAction("""{"action":"update\u005fcandidate"}"""u8, out _));
        Assert.Equal("some_future_action", WebhookEnvelope.ReadAction("""{"action":"some_future_action"}"""u8, out _));
        Assert.Equal("Update_Candidate", WebhookEnvelope.ReadAction("""{"action":"Update_Candidate"}"""u8, out _));
        Assert.Equal(new string('a', 100), WebhookEnvelope.ReadAction(Encoding.UTF8.GetBytes($$"""{"action":"{{new string('a', 100)}}"}"""), out _));
        Assert.Null(WebhookActions.Known("\u00ff"u8));
        Assert.Null(WebhookActions.Known(new byte[] { 0xff, 0xfe }));
    }

    [Fact]
    public void The_first_string_action_is_the_one_read()
    {
        Assert.Equal("update_candidate", WebhookEnvelope.ReadAction("""{"action":7,"action":"update_candidate","action":"job_created"}"""u8, out _));
    }
}
