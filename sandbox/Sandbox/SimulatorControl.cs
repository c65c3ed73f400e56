using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Sandbox.Greenhouse;

namespace Sandbox;

/// <summary>
/// A few HTTP endpoints on 127.0.0.1 that act as a Greenhouse user would, so a person at a terminal
/// can make the simulator change data and send webhooks:
/// <c>GET /candidates</c>, <c>GET /candidates/{id}</c>, <c>POST /candidates?first_name=&amp;last_name=&amp;email=</c>,
/// <c>POST /candidates/{id}/update?first_name=..&amp;last_name=..&amp;title=..&amp;company=..</c>,
/// <c>DELETE /candidates/{id}</c>, <c>GET /webhooks</c> (deliveries without bodies).
/// </summary>
internal static class SimulatorControl
{
    private static readonly string[] EditableFields = ["first_name", "last_name", "title", "company"];

    public static async Task<WebApplication> StartAsync(GreenhouseSimulator simulator, int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();

        app.MapGet("/candidates", () =>
        {
            var ids = simulator.CandidateIds;
            return Json(new JsonObject { ["count"] = ids.Count, ["first"] = new JsonArray([.. ids.Take(10).Select(i => (JsonNode)i)]) });
        });
        app.MapGet("/candidates/{id:long}", (long id) =>
            simulator.GetCandidate(id) is { } candidate ? Json(candidate) : Results.NotFound());
        app.MapPost("/candidates", (HttpRequest request) =>
        {
            var id = simulator.CreateCandidate(
                request.Query["first_name"].FirstOrDefault() ?? "Sandbox",
                request.Query["last_name"].FirstOrDefault() ?? "Person",
                request.Query["email"].FirstOrDefault() ?? $"sandbox-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}@example.com");
            return Json(new JsonObject { ["id"] = id });
        });
        app.MapPost("/candidates/{id:long}/update", (long id, HttpRequest request) =>
        {
            try
            {
                return Deliveries(simulator.UpdateCandidate(id, candidate =>
                {
                    foreach (var field in EditableFields)
                    {
                        if (request.Query[field].FirstOrDefault() is { } value)
                        {
                            candidate[field] = value;
                        }
                    }
                }));
            }
            catch (KeyNotFoundException)
            {
                return Results.NotFound();
            }
        });
        app.MapDelete("/candidates/{id:long}", (long id) =>
        {
            try
            {
                return Deliveries(simulator.DeleteCandidate(id));
            }
            catch (KeyNotFoundException)
            {
                return Results.NotFound();
            }
        });
        app.MapGet("/webhooks", () => Deliveries(simulator.WebhookDeliveries));

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return app;
    }

    private static IResult Deliveries(IEnumerable<WebhookDelivery> deliveries) =>
        Json(new JsonArray([.. deliveries.Select(d => (JsonNode)new JsonObject
        {
            ["eventId"] = d.EventId,
            ["action"] = d.Action,
            ["endpoint"] = d.Endpoint.ToString(),
            ["state"] = d.State.ToString(),
            ["attempts"] = d.Attempts,
            ["lastStatusCode"] = d.LastStatusCode,
            ["createdAt"] = d.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
            ["webhookId"] = d.WebhookId,
            ["deliveredTo"] = d.DeliveredTo?.ToString(),
        })]));

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json");
}
