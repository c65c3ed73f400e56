using System.Text.Json;

namespace Greenhouse.Harvest;

/// <summary>
/// Lenient reader of Harvest error bodies. v3 documents none; seen in the wild are
/// <c>{"errors":["..."]}</c>, the v1 shape <c>{"message":"...","errors":[{"field":"...","message":"..."}]}</c>
/// and OAuth's <c>{"error":"...","error_description":"..."}</c>.
/// </summary>
internal sealed record HarvestErrorBody(string? Message, IReadOnlyList<HarvestFieldError> Errors)
{
    public static HarvestErrorBody Parse(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new HarvestErrorBody(null, []);
            }

            var message = StringOf(root, "message") ?? StringOf(root, "error_description") ?? StringOf(root, "error");
            var errors = new List<HarvestFieldError>();
            if (root.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in list.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        errors.Add(new HarvestFieldError(null, item.GetString() ?? string.Empty));
                    }
                    else if (item.ValueKind == JsonValueKind.Object)
                    {
                        errors.Add(new HarvestFieldError(StringOf(item, "field"), StringOf(item, "message") ?? item.GetRawText()));
                    }
                }
            }

            return new HarvestErrorBody(message, errors);
        }
        catch (JsonException)
        {
            return new HarvestErrorBody(null, []);
        }
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
