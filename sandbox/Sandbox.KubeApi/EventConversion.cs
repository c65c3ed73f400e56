using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>core/v1 Events and events.k8s.io/v1 Events are one store; these map between the two shapes.</summary>
internal static class EventConversion
{
    private static readonly (string Core, string Events)[] Renames =
    [
        ("involvedObject", "regarding"),
        ("message", "note"),
        ("reportingComponent", "reportingController"),
        ("source", "deprecatedSource"),
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
        ("count", "deprecatedCount"),
    ];

    /// <summary>events.k8s.io/v1 body to the stored core/v1 shape.</summary>
    public static JsonObject ToCore(JsonObject e)
    {
        var core = Json.Clone(e);
        foreach (var (c, ev) in Renames)
        {
            if (core.Remove(ev, out var v))
            {
                core[c] = v;
            }
        }

        core["apiVersion"] = "v1";
        core["kind"] = "Event";
        return core;
    }

    /// <summary>Stored core/v1 Event to the events.k8s.io/v1 shape.</summary>
    public static JsonObject ToEvents(JsonObject core)
    {
        var e = Json.Clone(core);
        foreach (var (c, ev) in Renames)
        {
            if (e.Remove(c, out var v))
            {
                e[ev] = v;
            }
        }

        e["apiVersion"] = "events.k8s.io/v1";
        e["kind"] = "Event";
        return e;
    }
}
