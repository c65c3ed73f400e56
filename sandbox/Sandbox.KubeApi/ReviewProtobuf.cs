using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>
/// Decodes the protobuf bodies kubectl sends for the authentication and authorization kinds (TokenRequest,
/// TokenReview, SelfSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview): the "k8s\0" envelope
/// (runtime.Unknown) and the message by the field numbers of the k8s.io/api types, into the JSON object the JSON
/// path would parse. Only the fields these reviews read are mapped; others are skipped by wire type.
/// </summary>
internal static class ReviewProtobuf
{
    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    private static readonly Field[] ObjectMeta = [new(1, "name"), new(2, "generateName"), new(3, "namespace")];
    private static readonly Field[] ResourceAttributes =
        [new(1, "namespace"), new(2, "verb"), new(3, "group"), new(4, "version"), new(5, "resource"), new(6, "subresource"), new(7, "name")];

    private static readonly Dictionary<string, Field[]> Specs = new(StringComparer.Ordinal)
    {
        ["TokenRequest"] =
        [
            new(1, "audiences", Repeated: true),
            new(3, "boundObjectRef", Message: [new(1, "kind"), new(2, "apiVersion"), new(3, "name"), new(4, "uid")]),
            new(4, "expirationSeconds", Varint: true),
        ],
        ["TokenReview"] = [new(1, "token"), new(2, "audiences", Repeated: true)],
        ["SelfSubjectAccessReview"] =
        [
            new(1, "resourceAttributes", Message: ResourceAttributes),
            new(2, "nonResourceAttributes", Message: [new(1, "path"), new(2, "verb")]),
        ],
        ["SelfSubjectRulesReview"] = [new(1, "namespace")],
        ["SelfSubjectReview"] = [],
    };

    public static bool IsEnvelope(ReadOnlySpan<byte> body) => body.StartsWith(Magic);

    /// <summary>The JSON form of the enveloped object, or a 415 naming a kind this decoder does not know.</summary>
    public static JsonObject Decode(byte[] body)
    {
        if (!IsEnvelope(body))
        {
            throw ApiException.BadRequest("the protobuf body does not start with the k8s envelope");
        }

        var unknown = Read(body.AsSpan(Magic.Length));
        var typeMeta = unknown.TryGetValue(1, out var tm) ? Read(tm[^1].Bytes) : [];
        var apiVersion = Text(typeMeta, 1) ?? "";
        var kind = Text(typeMeta, 2) ?? "";
        if (!Specs.TryGetValue(kind, out var specFields))
        {
            throw new ApiException(415, "UnsupportedMediaType", $"the sandbox cannot decode {kind} ({apiVersion}) from protobuf; send it as application/json");
        }

        var message = unknown.TryGetValue(2, out var raw) ? Read(raw[^1].Bytes) : [];
        var obj = new JsonObject { ["kind"] = kind, ["apiVersion"] = apiVersion };
        obj["metadata"] = message.TryGetValue(1, out var meta) ? ToJson(Read(meta[^1].Bytes), ObjectMeta) : new JsonObject();
        obj["spec"] = message.TryGetValue(2, out var spec) ? ToJson(Read(spec[^1].Bytes), specFields) : new JsonObject();
        return obj;
    }

    private static JsonObject ToJson(Dictionary<int, List<WireValue>> message, Field[] fields)
    {
        var json = new JsonObject();
        foreach (var f in fields)
        {
            if (!message.TryGetValue(f.Number, out var values))
            {
                continue;
            }

            if (f.Repeated)
            {
                json[f.Name] = new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(Encoding.UTF8.GetString(v.Bytes)))]);
            }
            else if (f.Varint)
            {
                json[f.Name] = (long)values[^1].Number;
            }
            else if (f.Message is { } nested)
            {
                json[f.Name] = ToJson(Read(values[^1].Bytes), nested);
            }
            else
            {
                json[f.Name] = Encoding.UTF8.GetString(values[^1].Bytes);
            }
        }

        return json;
    }

    private static string? Text(Dictionary<int, List<WireValue>> message, int field) =>
        message.TryGetValue(field, out var v) ? Encoding.UTF8.GetString(v[^1].Bytes) : null;

    private static Dictionary<int, List<WireValue>> Read(ReadOnlySpan<byte> data)
    {
        var fields = new Dictionary<int, List<WireValue>>();
        var pos = 0;
        while (pos < data.Length)
        {
            var key = Varint(data, ref pos);
            var number = (int)(key >> 3);
            WireValue value;
            switch (key & 7)
            {
                case 0:
                    value = new WireValue(Varint(data, ref pos), []);
                    break;
                case 1:
                    Need(data, pos, 8);
                    value = new WireValue(BitConverter.ToUInt64(data.Slice(pos, 8)), []);
                    pos += 8;
                    break;
                case 2:
                    var length = (int)Varint(data, ref pos);
                    Need(data, pos, length);
                    value = new WireValue(0, data.Slice(pos, length).ToArray());
                    pos += length;
                    break;
                case 5:
                    Need(data, pos, 4);
                    value = new WireValue(BitConverter.ToUInt32(data.Slice(pos, 4)), []);
                    pos += 4;
                    break;
                default:
                    throw ApiException.BadRequest($"error decoding protobuf body: unsupported wire type {key & 7}");
            }

            if (!fields.TryGetValue(number, out var list))
            {
                fields[number] = list = [];
            }

            list.Add(value);
        }

        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            Need(data, pos, 1);
            var b = data[pos++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw ApiException.BadRequest("error decoding protobuf body: varint too long");
    }

    private static void Need(ReadOnlySpan<byte> data, int pos, int count)
    {
        if (count < 0 || pos + count > data.Length)
        {
            throw ApiException.BadRequest("error decoding protobuf body: truncated message");
        }
    }

    private sealed record Field(int Number, string Name, bool Repeated = false, bool Varint = false, Field[]? Message = null);

    private sealed record WireValue(ulong Number, byte[] Bytes);
}
