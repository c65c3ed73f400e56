using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>One validation failure; becomes a Status cause and a part of the 422 message.</summary>
internal sealed record FieldError(string Reason, string Field, string Message)
{
    public override string ToString() => Message;

    public static FieldError Required(string field, string detail = "") =>
        new("FieldValueRequired", field, $"{field}: Required value{Suffix(detail)}");

    public static FieldError Invalid(string field, JsonNode? value, string detail) =>
        new("FieldValueInvalid", field, $"{field}: Invalid value: {Render(value)}{Suffix(detail)}");

    public static FieldError Forbidden(string field, string detail) =>
        new("FieldValueForbidden", field, $"{field}: Forbidden{Suffix(detail)}");

    public static FieldError Duplicate(string field, JsonNode? value) =>
        new("FieldValueDuplicate", field, $"{field}: Duplicate value: {Render(value)}");

    public static FieldError NotSupported(string field, JsonNode? value, IEnumerable<string> supported) =>
        new("FieldValueNotSupported", field, $"{field}: Unsupported value: {Render(value)}: supported values: {string.Join(", ", supported)}");

    public static FieldError TooLong(string field, int max) =>
        new("FieldValueTooLong", field, $"{field}: Too long: may not be more than {max.ToString(CultureInfo.InvariantCulture)} bytes");

    public static FieldError TooMany(string field, int max) =>
        new("FieldValueTooMany", field, $"{field}: Too many: must have at most {max.ToString(CultureInfo.InvariantCulture)} items");

    public static FieldError TypeInvalid(string field, JsonNode? value, string detail) =>
        new("FieldValueTypeInvalid", field, $"{field}: Invalid value: {Render(value)}{Suffix(detail)}");

    private static string Suffix(string detail) => detail.Length == 0 ? "" : ": " + detail;

    internal static string Render(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonSerializer.Serialize(v.GetValue<string>()),
        JsonObject => "map[string]interface {}",
        JsonArray => "[]interface {}",
        _ => value.ToJsonString(),
    };
}
