using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.Greenhouse;

/// <summary>JSON as Greenhouse writes it: non-ASCII and <c>&lt; &gt; &amp;</c> as <c>\uXXXX</c> escapes (Rails' JSON encoder).</summary>
internal static class GreenhouseJson
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize(JsonNode node)
    {
        // Outside strings JSON is plain ASCII without these characters, so escaping the whole text is safe.
        var relaxed = node.ToJsonString(Relaxed);
        var builder = new StringBuilder(relaxed.Length + 16);
        foreach (var c in relaxed)
        {
            if (c > 0x7E || c is '<' or '>' or '&')
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset ReadTime(JsonObject item, string field) =>
        item[field]?.GetValue<string>() is { } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : DateTimeOffset.MinValue;

    public static long Id(JsonObject item) => item["id"]!.GetValue<long>();
}
