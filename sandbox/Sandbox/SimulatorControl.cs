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
/// <c>DELETE /candidates/{id}</c>, <c>GET /webhooks</c> (deliveries without bodies);
/// continuous traffic: <c>POST /traffic?interval-ms=500</c>, <c>DELETE /traffic</c>;
/// Harvest outages: <c>POST /faults?harvest=401|429|503</c>, <c>DELETE /faults</c>;
/// the "Greenhouse admin": <c>POST /admin/hold</c> (away: changes nothing, a rotated key is pasted late),
/// <c>POST /admin/release</c>; each <c>GET</c>s its state.
/// </summary>
internal static class SimulatorControl
{
    private static readonly string[] EditableFields = ["first_name", "last_name", "title", "company"];

    public static async Task<WebApplication> StartAsync(GreenhouseSimulator simulator, WebhookRegistrar admin, SimulatedTraffic traffic, int port, CancellationToken cancellationToken)
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

        app.MapGet("/traffic", () => Traffic(traffic));
        app.MapPost("/traffic", async (HttpRequest request) =>
        {
            var text = request.Query["interval-ms"].FirstOrDefault() ?? "1000";
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms < 10)
            {
                return Results.BadRequest("interval-ms: a whole number of milliseconds, at least 10");
            }

            await traffic.StartAsync(TimeSpan.FromMilliseconds(ms)).ConfigureAwait(false);
            return Traffic(traffic);
        });
        app.MapDelete("/traffic", async () =>
        {
            await traffic.StopAsync().ConfigureAwait(false);
            return Traffic(traffic);
        });

        app.MapGet("/faults", () => Faults(simulator));
        app.MapPost("/faults", (HttpRequest request) =>
        {
            if (!int.TryParse(request.Query["harvest"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status < 400 || status > 599)
            {
                return Results.BadRequest("harvest: the HTTP status (4xx or 5xx, e.g. 401 or 429) every Harvest request is answered with until DELETE /faults");
            }

            simulator.Faults.OutageStatus = status;
            return Faults(simulator);
        });
        app.MapDelete("/faults", () =>
        {
            simulator.Faults.OutageStatus = null;
            return Faults(simulator);
        });

        app.MapGet("/admin", () => Admin(admin));
        app.MapPost("/admin/hold", () =>
        {
            admin.Holding = true;
            return Admin(admin);
        });
        app.MapPost("/admin/release", () =>
        {
            admin.Holding = false;
            return Admin(admin);
        });

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

    private static IResult Traffic(SimulatedTraffic traffic) =>
        Json(new JsonObject { ["running"] = traffic.Running, ["changes"] = traffic.Changes });

    private static IResult Faults(GreenhouseSimulator simulator) =>
        Json(new JsonObject { ["harvest"] = simulator.Faults.OutageStatus });

    private static IResult Admin(WebhookRegistrar admin) =>
        Json(new JsonObject { ["holding"] = admin.Holding });

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json");
}
