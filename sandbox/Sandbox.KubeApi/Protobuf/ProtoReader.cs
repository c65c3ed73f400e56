namespace Sandbox.KubeApi.Protobuf;

/// <summary>
/// Reads the protobuf wire format field by field: varints, 64-bit and 32-bit fixed values and
/// length-delimited payloads (strings, bytes, embedded messages). Malformed input throws
/// <see cref="FormatException"/> with the offset, never reads past the buffer.
/// </summary>
internal sealed class ProtoReader(ReadOnlyMemory<byte> buffer)
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private int _position;

    public bool End => _position >= buffer.Length;

    /// <summary>The next field's number and wire type.</summary>
    public (int Field, int WireType) ReadTag()
    {
        var at = _position;
        var tag = ReadVarint();
        var field = tag >> 3;
        if (field is 0 or > int.MaxValue)
        {
            throw new FormatException($"invalid protobuf field number {field} at offset {at}");
        }

        return ((int)field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= buffer.Length)
            {
                throw new FormatException($"truncated protobuf varint at offset {_position}");
            }

            var b = buffer.Span[_position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new FormatException($"protobuf varint longer than 10 bytes before offset {_position}");
    }

    public ReadOnlyMemory<byte> ReadLengthDelimited()
    {
        var at = _position;
        var length = ReadVarint();
        if (length > (ulong)(buffer.Length - _position))
        {
            throw new FormatException($"protobuf length {length} at offset {at} runs past the end of the message");
        }

        var slice = buffer.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    /// <summary>Skips a value of the given wire type (groups, wire types 3 and 4, are rejected).</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Advance(8);
                break;
            case LengthDelimited:
                ReadLengthDelimited();
                break;
            case Fixed32:
                Advance(4);
                break;
            default:
                throw new FormatException($"unsupported protobuf wire type {wireType} before offset {_position}");
        }
    }

    private void Advance(int count)
    {
        if (buffer.Length - _position < count)
        {
            throw new FormatException($"truncated protobuf fixed-width value at offset {_position}");
        }

        _position += count;
    }
}
