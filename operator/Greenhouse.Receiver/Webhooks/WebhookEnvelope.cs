using System.Text.Json;

namespace Greenhouse.Receiver.Webhooks;

/// <summary>Reads the envelope (<c>{"action": ..., "payload": ...}</c>) while validating that the whole body is JSON.</summary>
public static class WebhookEnvelope
{
    /// <summary>The action, or null with a reason when the body is not a JSON object with a string action.</summary>
    public static string? ReadAction(ReadOnlySpan<byte> body, out string? problem)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
        string? action = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "body is not a JSON object";
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isAction = reader.ValueTextEquals("action"u8);
                reader.Read();
                if (isAction && reader.TokenType == JsonTokenType.String)
                {
                    action = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }
            // Reading to the end makes the reader validate trailing content too.
            while (reader.Read())
            {
            }
        }
        catch (JsonException)
        {
            problem = "body is not valid JSON";
            return null;
        }
        catch (InvalidOperationException)
        {
            // GetString of an escape that is not valid UTF-16, such as a lone surrogate ("\ud800").
            problem = "action is not valid Unicode";
            return null;
        }
        if (string.IsNullOrWhiteSpace(action))
        {
            problem = "body has no string action";
            return null;
        }
        problem = null;
        return action;
    }
}
