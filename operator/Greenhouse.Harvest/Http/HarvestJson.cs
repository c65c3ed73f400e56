using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Greenhouse.Harvest;

/// <summary>Serializer settings for Harvest: snake_case, unknown fields ignored, and a JSON null tolerated where the model has a value type.</summary>
internal static class HarvestJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new NullAsDefault<long>(static (ref Utf8JsonReader r) => r.TokenType == JsonTokenType.String ? long.Parse(r.GetString()!, CultureInfo.InvariantCulture) : r.GetInt64(), static (w, v) => w.WriteNumberValue(v)));
        options.Converters.Add(new NullAsDefault<int>(static (ref Utf8JsonReader r) => r.TokenType == JsonTokenType.String ? int.Parse(r.GetString()!, CultureInfo.InvariantCulture) : r.GetInt32(), static (w, v) => w.WriteNumberValue(v)));
        options.Converters.Add(new NullAsDefault<bool>(static (ref Utf8JsonReader r) => r.GetBoolean(), static (w, v) => w.WriteBooleanValue(v)));
        options.Converters.Add(new NullAsDefault<DateTimeOffset>(static (ref Utf8JsonReader r) => r.GetDateTimeOffset(), static (w, v) => w.WriteStringValue(v)));
        options.MakeReadOnly();
        return options;
    }

    private delegate T ReadValue<T>(ref Utf8JsonReader reader);

    // Harvest documents these fields as always present, but a null must not fail a whole page.
    private sealed class NullAsDefault<T>(ReadValue<T> read, Action<Utf8JsonWriter, T> write) : JsonConverter<T>
        where T : struct
    {
        public override bool HandleNull => true;

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? default : read(ref reader);

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => write(writer, value);
    }
}
