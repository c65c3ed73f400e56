using System.Text.Json.Nodes;
using k8s;

namespace ControllerRuntime;

/// <summary>
/// Decides whether an observed object already has every field a desired object sets. Fields only the
/// observed object has (server defaults, other controllers' annotations, status) are ignored, so
/// defaulting never causes an endless update loop; lists must match element by element.
/// </summary>
public static class ObjectComparison
{
    public static bool HasAllFieldsOf(object observed, object desired) =>
        Contains(ToNode(observed), ToNode(desired));

    public static JsonNode? ToNode(object value) => JsonNode.Parse(KubernetesJson.Serialize(value));

    public static bool Contains(JsonNode? observed, JsonNode? desired)
    {
        switch (desired)
        {
            case null:
                return true;
            case JsonObject desiredObject:
                if (observed is not JsonObject observedObject)
                {
                    return false;
                }

                foreach (var (name, value) in desiredObject)
                {
                    if (value is null)
                    {
                        continue;
                    }

                    if (!observedObject.TryGetPropertyValue(name, out var observedValue) || !Contains(observedValue, value))
                    {
                        return false;
                    }
                }

                return true;
            case JsonArray desiredArray:
                if (observed is not JsonArray observedArray || observedArray.Count != desiredArray.Count)
                {
                    return false;
                }

                for (var i = 0; i < desiredArray.Count; i++)
                {
                    if (!Contains(observedArray[i], desiredArray[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return observed is not null && observed.ToJsonString() == desired.ToJsonString();
        }
    }
}
