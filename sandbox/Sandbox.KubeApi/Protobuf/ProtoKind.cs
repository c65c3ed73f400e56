namespace Sandbox.KubeApi.Protobuf;

/// <summary>How a protobuf field turns into JSON.</summary>
internal enum ProtoKind
{
    String,
    Bytes,
    Bool,
    Int,
    Message,
    StringMap,
    BytesMap,
    QuantityMap,
    Quantity,
    IntOrString,
    Time,
}
