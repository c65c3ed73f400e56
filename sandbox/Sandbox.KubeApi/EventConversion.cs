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
    public static JsonObject ToCore(JsonObject e) => Convert(e, toCore: true);

    /// <summary>Stored core/v1 Event to the events.k8s.io/v1 shape.</summary>
    public static JsonObject ToEvents(JsonObject core) => Convert(core, toCore: false);

    private static JsonObject Convert(JsonObject source, bool toCore)
    {
        var result = Json.Clone(source);
        foreach (var (c, ev) in Renames)
        {
            var (from, to) = toCore ? (ev, c) : (c, ev);
            if (result.Remove(from, out var v))
            {
                result[to] = v;
            }
        }

        result["apiVersion"] = toCore ? "v1" : "events.k8s.io/v1";
        result["kind"] = "Event";
        return result;
    }
}
