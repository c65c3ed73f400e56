using System.Globalization;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>Builds meta.k8s.io/v1 Table answers for kubectl's human-readable output.</summary>
internal static class TableConverter
{
    public const string ContentType = "application/json;as=Table;v=v1;g=meta.k8s.io";

    public static JsonObject Build(ResourceType type, IEnumerable<JsonObject> objects, string? resourceVersion, string? continueToken, DateTimeOffset now, bool includeColumns = true)
    {
        var columns = Columns(type);
        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject(),
        };
        if (resourceVersion is not null)
        {
            table["metadata"]!["resourceVersion"] = resourceVersion;
        }

        if (continueToken is not null)
        {
            table["metadata"]!["continue"] = continueToken;
        }

        if (includeColumns)
        {
            var defs = new JsonArray();
            foreach (var c in columns)
            {
                defs.Add(new JsonObject
                {
                    ["name"] = c.Name,
                    ["type"] = c.Type,
                    ["format"] = c.Format,
                    ["description"] = c.Description,
                    ["priority"] = c.Priority,
                });
            }

            table["columnDefinitions"] = defs;
        }

        var rows = new JsonArray();
        foreach (var o in objects)
        {
            var cells = new JsonArray();
            foreach (var c in columns)
            {
                cells.Add(Cell(type, c, o, now));
            }

            rows.Add(new JsonObject
            {
                ["cells"] = cells,
                ["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = o["metadata"]?.DeepClone(),
                },
            });
        }

        table["rows"] = rows;
        return table;
    }

    private static List<PrinterColumn> Columns(ResourceType type)
    {
        var name = new PrinterColumn("Name", "string", ".metadata.name", "name", "Name must be unique within a namespace.");
        var age = new PrinterColumn("Age", "date", ".metadata.creationTimestamp", "", "Time since creation.");
        if (type.IsCustom)
        {
            return type.Columns.Count == 0 ? [name, age] : [name, .. type.Columns];
        }

        return type.Plural switch
        {
            "pods" => [name, Computed("Ready"), Computed("Status"), Computed("Restarts", "integer"), age, Computed("IP", priority: 1), Computed("Node", priority: 1)],
            "deployments" => [name, Computed("Ready"), Computed("Up-to-date", "integer"), Computed("Available", "integer"), age],
            "replicasets" => [name, Computed("Desired", "integer"), Computed("Current", "integer"), Computed("Ready", "integer"), age],
            "jobs" => [name, Computed("Status"), Computed("Completions"), age],
            "namespaces" => [name, new PrinterColumn("Status", "string", ".status.phase"), age],
            "configmaps" => [name, Computed("Data", "integer"), age],
            "secrets" => [name, new PrinterColumn("Type", "string", ".type"), Computed("Data", "integer"), age],
            "services" => [name, new PrinterColumn("Type", "string", ".spec.type"), new PrinterColumn("Cluster-IP", "string", ".spec.clusterIP"), Computed("External-IP"), Computed("Port(s)"), age],
            "leases" => [name, new PrinterColumn("Holder", "string", ".spec.holderIdentity"), age],
            "customresourcedefinitions" => [name, new PrinterColumn("Created At", "date", ".metadata.creationTimestamp")],
            "persistentvolumeclaims" => [name, new PrinterColumn("Status", "string", ".status.phase"), new PrinterColumn("Volume", "string", ".spec.volumeName"), new PrinterColumn("Capacity", "string", ".status.capacity.storage"), age],
            _ => [name, age],
        };
    }

    private static PrinterColumn Computed(string name, string type = "string", int priority = 0) => new(name, type, "", "", "", priority);

    // kubectl's Job status column: the last true terminal condition, else Suspended or Running.
    private static string JobStatus(JsonObject job)
    {
        var conditions = (job["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Where(c => Json.String(c["status"]) == "True").Select(c => Json.String(c["type"])).ToList() ?? [];
        return conditions.Contains("Complete") ? "Complete"
            : conditions.Contains("Failed") ? "Failed"
            : conditions.Contains("Suspended") ? "Suspended"
            : "Running";
    }

    private static JsonNode? Cell(ResourceType type, PrinterColumn c, JsonObject o, DateTimeOffset now)
    {
        if (c.JsonPath.Length == 0)
        {
            return ComputedCell(type, c.Name, o);
        }

        var matches = SimpleJsonPath.Evaluate(o, c.JsonPath);
        if (matches.Count == 0 || matches[0] is null)
        {
            return null;
        }

        if (c.Type == "date")
        {
            return Json.ParseTime(matches[0]) is { } t ? (c.Name == "Created At" ? Json.FormatTime(t) : HumanAge(now - t)) : null;
        }

        if (matches.Count > 1)
        {
            return string.Join(",", matches.Select(Json.Scalar));
        }

        return matches[0] is JsonValue v ? v.DeepClone() : Json.Scalar(matches[0]);
    }

    private static JsonNode? ComputedCell(ResourceType type, string column, JsonObject o)
    {
        string Int(string path) => (Json.Long(Json.At(o, path)) ?? 0).ToString(CultureInfo.InvariantCulture);
        return (type.Plural, column) switch
        {
            ("pods", "Ready") => $"{(o["status"]?["containerStatuses"] as JsonArray)?.Count(s => Json.IsTrue(s?["ready"])) ?? 0}/{(o["spec"]?["containers"] as JsonArray)?.Count ?? 0}",
            ("pods", "Status") => o["metadata"]?["deletionTimestamp"] is not null ? "Terminating" : Json.String(o["status"]?["phase"]) ?? "Unknown",
            ("pods", "Restarts") => (o["status"]?["containerStatuses"] as JsonArray)?.Sum(s => Json.Long(s?["restartCount"]) ?? 0) ?? 0,
            ("pods", "IP") => Json.String(o["status"]?["podIP"]) ?? "<none>",
            ("pods", "Node") => Json.String(o["spec"]?["nodeName"]) ?? "<none>",
            ("deployments", "Ready") => $"{Int("status.readyReplicas")}/{Int("spec.replicas")}",
            ("deployments", "Up-to-date") => Json.Long(Json.At(o, "status.updatedReplicas")) ?? 0,
            ("deployments", "Available") => Json.Long(Json.At(o, "status.availableReplicas")) ?? 0,
            ("replicasets", "Desired") => Json.Long(Json.At(o, "spec.replicas")) ?? 1,
            ("replicasets", "Current") => Json.Long(Json.At(o, "status.replicas")) ?? 0,
            ("replicasets", "Ready") => Json.Long(Json.At(o, "status.readyReplicas")) ?? 0,
            ("jobs", "Status") => JobStatus(o),
            ("jobs", "Completions") => $"{Json.Long(Json.At(o, "status.succeeded")) ?? 0}/{Json.Long(Json.At(o, "spec.completions")) ?? 1}",
            ("configmaps", "Data") => ((o["data"] as JsonObject)?.Count ?? 0) + ((o["binaryData"] as JsonObject)?.Count ?? 0),
            ("secrets", "Data") => (o["data"] as JsonObject)?.Count ?? 0,
            ("services", "External-IP") => "<none>",
            ("services", "Port(s)") => string.Join(",", (o["spec"]?["ports"] as JsonArray)?.OfType<JsonObject>().Select(p => $"{Json.Scalar(p["port"])}/{Json.String(p["protocol"]) ?? "TCP"}") ?? []) is { Length: > 0 } ports ? ports : "<none>",
            _ => null,
        };
    }

    /// <summary>kubectl's short human duration (5s, 3m20s, 5h, 2d3h, ...).</summary>
    public static string HumanAge(TimeSpan d)
    {
        var seconds = (long)Math.Max(0, d.TotalSeconds);
        var minutes = seconds / 60;
        var hours = minutes / 60;
        var days = hours / 24;
        var years = days / 365;
        string F(long v) => v.ToString(CultureInfo.InvariantCulture);
        if (seconds < 120)
        {
            return F(seconds) + "s";
        }

        if (minutes < 10)
        {
            return seconds % 60 == 0 ? F(minutes) + "m" : F(minutes) + "m" + F(seconds % 60) + "s";
        }

        if (minutes < 180)
        {
            return F(minutes) + "m";
        }

        if (hours < 8)
        {
            return minutes % 60 == 0 ? F(hours) + "h" : F(hours) + "h" + F(minutes % 60) + "m";
        }

        if (hours < 48)
        {
            return F(hours) + "h";
        }

        if (hours < 24 * 8)
        {
            return hours % 24 == 0 ? F(days) + "d" : F(days) + "d" + F(hours % 24) + "h";
        }

        if (days < 365 * 2)
        {
            return F(days) + "d";
        }

        return years < 8 ? F(years) + "y" + F(days % 365) + "d" : F(years) + "y";
    }
}
