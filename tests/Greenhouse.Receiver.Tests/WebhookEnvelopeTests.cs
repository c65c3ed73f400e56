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
    [InlineData("""{"action":"update_candidate",""")]
    [InlineData("""{"action":"update_candidate"} trailing""")]
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
}
