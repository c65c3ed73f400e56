using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Protobuf;

/// <summary>
/// Decodes <c>application/vnd.kubernetes.protobuf</c> request bodies: the <c>k8s\0</c> magic, the
/// runtime.Unknown envelope (typeMeta 1, raw 2, contentEncoding 3, contentType 4) and the object in
/// <c>raw</c>, into the JSON object the same request would have carried as JSON. Kinds and fields the
/// sandbox does not know are refused with a 415 naming them, never dropped.
/// </summary>
internal static class KubeProtobuf
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private static readonly byte[] Magic = [0x6b, 0x38, 0x73, 0x00];

    public static JsonObject Decode(ReadOnlyMemory<byte> body)
    {
        if (body.Length < Magic.Length || !body.Span[..Magic.Length].SequenceEqual(Magic))
        {
            throw ApiException.BadRequest("the protobuf request body does not start with the Kubernetes magic prefix k8s\\0");
        }

        string apiVersion = "", kind = "", encoding = "";
        ReadOnlyMemory<byte> raw = default;
        try
        {
            var envelope = new ProtoReader(body[Magic.Length..]);
            while (!envelope.End)
            {
                var (field, wire) = envelope.ReadTag();
                switch (field)
                {
                    case 1 when wire == ProtoReader.LengthDelimited:
                        var typeMeta = new ProtoReader(envelope.ReadLengthDelimited());
                        while (!typeMeta.End)
                        {
                            var (f, w) = typeMeta.ReadTag();
                            if (f is 1 or 2 && w == ProtoReader.LengthDelimited)
                            {
                                var text = Encoding.UTF8.GetString(typeMeta.ReadLengthDelimited().Span);
                                (apiVersion, kind) = f == 1 ? (text, kind) : (apiVersion, text);
                            }
                            else
                            {
                                typeMeta.Skip(w);
                            }
                        }

                        break;
                    case 2 when wire == ProtoReader.LengthDelimited:
                        raw = envelope.ReadLengthDelimited();
                        break;
                    case 3 when wire == ProtoReader.LengthDelimited:
                        encoding = Encoding.UTF8.GetString(envelope.ReadLengthDelimited().Span);
                        break;
                    default:
                        envelope.Skip(wire);
                        break;
                }
            }
        }
        catch (FormatException ex)
        {
            throw ApiException.BadRequest($"error decoding protobuf request body: {ex.Message}");
        }

        if (encoding.Length > 0)
        {
            throw Unsupported($"the sandbox cannot decode protobuf bodies with contentEncoding {encoding}");
        }

        if (KubeProtoSchema.For(apiVersion, kind) is not { } message)
        {
            var name = kind.Length == 0 ? "an object without kind" : $"{kind} ({apiVersion})";
            throw Unsupported($"the sandbox cannot decode {name} from {MediaType}; it decodes {string.Join(", ", KubeProtoSchema.SupportedKinds.Select(k => k.Kind).Distinct())}: send it as application/json (kubectl create -f / apply -f)");
        }

        JsonObject obj;
        try
        {
            obj = DecodeMessage(message, raw, kind);
        }
        catch (FormatException ex)
        {
            throw ApiException.BadRequest($"error decoding protobuf {kind}: {ex.Message}");
        }

        var result = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        foreach (var (key, value) in obj.ToList())
        {
            obj.Remove(key);
            result[key] = value;
        }

        return result;
    }

    internal static JsonObject DecodeMessage(ProtoMessage message, ReadOnlyMemory<byte> data, string path)
    {
        var obj = new JsonObject();
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var (number, wire) = reader.ReadTag();
            if (!message.Fields.TryGetValue(number, out var field))
            {
                throw Unsupported($"the sandbox cannot decode field {number} of {message.Name} (in {path}) from {MediaType}; send the object as application/json (kubectl create -f / apply -f)");
            }

            var fieldPath = field.Inline ? path : path + "." + field.Json;
            var expected = field.Kind is ProtoKind.Bool or ProtoKind.Int ? ProtoReader.Varint : ProtoReader.LengthDelimited;
            if (wire != expected)
            {
                throw new FormatException($"{fieldPath} has wire type {wire}, expected {expected}");
            }

            if (field.Inline)
            {
                foreach (var (key, value) in DecodeMessage(field.Message!, reader.ReadLengthDelimited(), path).ToList())
                {
                    obj[key] = value?.DeepClone();
                }

                continue;
            }

            switch (field.Kind)
            {
                case ProtoKind.StringMap or ProtoKind.BytesMap or ProtoKind.QuantityMap:
                    {
                        var (key, value) = MapEntry(field.Kind, reader.ReadLengthDelimited(), fieldPath);
                        if (obj[field.Json] is not JsonObject map)
                        {
                            map = new JsonObject();
                            obj[field.Json] = map;
                        }

                        map[key] = value;
                        continue;
                    }

                case ProtoKind.Int when field.Repeated:
                    throw new FormatException($"{fieldPath}: repeated integers are not supported");
            }

            var node = Value(field, reader, wire, fieldPath);
            if (field.Repeated)
            {
                if (obj[field.Json] is not JsonArray list)
                {
                    list = new JsonArray();
                    obj[field.Json] = list;
                }

                list.Add(node);
            }
            else if (node is not null && (field.KeepZero || !IsZero(node)))
            {
                obj[field.Json] = node;
            }
            else
            {
                // A zero scalar Go wrote only because the field is not a pointer, or the zero time (JSON null).
                obj.Remove(field.Json);
            }
        }

        return obj;
    }

    private static JsonNode? Value(ProtoField field, ProtoReader reader, int wire, string path) => field.Kind switch
    {
        ProtoKind.String => JsonValue.Create(Utf8(reader.ReadLengthDelimited(), path)),
        ProtoKind.Bytes => JsonValue.Create(Convert.ToBase64String(reader.ReadLengthDelimited().Span)),
        ProtoKind.Bool => JsonValue.Create(reader.ReadVarint() != 0),
        ProtoKind.Int => JsonValue.Create((long)reader.ReadVarint()),
        ProtoKind.Message => DecodeMessage(field.Message!, reader.ReadLengthDelimited(), path),
        ProtoKind.Quantity => JsonValue.Create(Quantity(reader.ReadLengthDelimited(), path)),
        ProtoKind.IntOrString => IntOrString(reader.ReadLengthDelimited(), path),
        ProtoKind.Time => Time(reader.ReadLengthDelimited(), path),
        _ => throw new FormatException($"{path}: wire type {wire} cannot hold {field.Kind}"),
    };

    private static bool IsZero(JsonNode node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length == 0,
        JsonValue v when v.TryGetValue<long>(out var l) => l == 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => !b,
        _ => false,
    };

    private static (string Key, JsonNode? Value) MapEntry(ProtoKind kind, ReadOnlyMemory<byte> entry, string path)
    {
        var reader = new ProtoReader(entry);
        var key = "";
        JsonNode? value = kind == ProtoKind.BytesMap ? "" : kind == ProtoKind.QuantityMap ? "0" : "";
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (wire != ProtoReader.LengthDelimited || field is not (1 or 2))
            {
                throw new FormatException($"{path}: unexpected field {field} (wire type {wire}) in a map entry");
            }

            var bytes = reader.ReadLengthDelimited();
            if (field == 1)
            {
                key = Utf8(bytes, path);
            }
            else
            {
                value = kind switch
                {
                    ProtoKind.BytesMap => Convert.ToBase64String(bytes.Span),
                    ProtoKind.QuantityMap => Quantity(bytes, path),
                    _ => Utf8(bytes, path),
                };
            }
        }

        return (key, value);
    }

    private static string Quantity(ReadOnlyMemory<byte> data, string path)
    {
        var reader = new ProtoReader(data);
        var text = "";
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field != 1 || wire != ProtoReader.LengthDelimited)
            {
                throw new FormatException($"{path}: unexpected field {field} in a resource.Quantity");
            }

            text = Utf8(reader.ReadLengthDelimited(), path);
        }

        return text;
    }

    private static JsonValue IntOrString(ReadOnlyMemory<byte> data, string path)
    {
        var reader = new ProtoReader(data);
        long type = 0, number = 0;
        var text = "";
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1 when wire == ProtoReader.Varint: type = (long)reader.ReadVarint(); break;
                case 2 when wire == ProtoReader.Varint: number = (int)reader.ReadVarint(); break;
                case 3 when wire == ProtoReader.LengthDelimited: text = Utf8(reader.ReadLengthDelimited(), path); break;
                default: throw new FormatException($"{path}: unexpected field {field} in an IntOrString");
            }
        }

        return type == 1 ? JsonValue.Create(text) : JsonValue.Create(number);
    }

    private static JsonValue? Time(ReadOnlyMemory<byte> data, string path)
    {
        var reader = new ProtoReader(data);
        long seconds = 0;
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1 when wire == ProtoReader.Varint: seconds = (long)reader.ReadVarint(); break;
                case 2 when wire == ProtoReader.Varint: reader.ReadVarint(); break; // metav1.Time keeps whole seconds in JSON.
                default: throw new FormatException($"{path}: unexpected field {field} in a Time");
            }
        }

        // The zero time, which Go's JSON writes as null and the JSON path stores as absent.
        return seconds == 0 && data.Length == 0 ? null
            : JsonValue.Create(DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }

    private static string Utf8(ReadOnlyMemory<byte> bytes, string path)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"{path} is not valid UTF-8");
        }
    }

    private static ApiException Unsupported(string message) => new(415, "UnsupportedMediaType", message);
}
