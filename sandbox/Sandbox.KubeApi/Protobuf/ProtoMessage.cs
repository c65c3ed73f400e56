namespace Sandbox.KubeApi.Protobuf;

/// <summary>
/// One Kubernetes protobuf message: its field numbers and the JSON names and shapes they map to,
/// as the <c>protobuf:"..."</c> and <c>json:"..."</c> tags of the k8s.io/api Go types pair them.
/// Built fluently; a field number this type does not list is rejected by the decoder.
/// </summary>
internal sealed class ProtoMessage(string name)
{
    private readonly Dictionary<int, ProtoField> _fields = [];

    /// <summary>The Go type, e.g. <c>io.k8s.api.core.v1.PodSpec</c>, named in error messages.</summary>
    public string Name { get; } = name;

    public IReadOnlyDictionary<int, ProtoField> Fields => _fields;

    /// <summary>A string; <paramref name="keepEmpty"/> for pointers and fields without <c>omitempty</c>.</summary>
    public ProtoMessage Str(int number, string json, bool keepEmpty = false) => Add(new ProtoField(number, json, ProtoKind.String, KeepZero: keepEmpty));

    public ProtoMessage Strs(int number, string json) => Add(new ProtoField(number, json, ProtoKind.String, Repeated: true));

    public ProtoMessage Bytes(int number, string json) => Add(new ProtoField(number, json, ProtoKind.Bytes));

    public ProtoMessage Bool(int number, string json, bool pointer = false) => Add(new ProtoField(number, json, ProtoKind.Bool, KeepZero: pointer));

    public ProtoMessage Int(int number, string json, bool pointer = false) => Add(new ProtoField(number, json, ProtoKind.Int, KeepZero: pointer));

    public ProtoMessage Map(int number, string json) => Add(new ProtoField(number, json, ProtoKind.StringMap));

    public ProtoMessage BytesMap(int number, string json) => Add(new ProtoField(number, json, ProtoKind.BytesMap));

    /// <summary>A <c>map[ResourceName]resource.Quantity</c> (resources' limits and requests).</summary>
    public ProtoMessage QuantityMap(int number, string json) => Add(new ProtoField(number, json, ProtoKind.QuantityMap));

    public ProtoMessage Quantity(int number, string json) => Add(new ProtoField(number, json, ProtoKind.Quantity));

    /// <summary>An IntOrString: always kept, as Go writes it even when zero (a struct, or a pointer that was set).</summary>
    public ProtoMessage IntOrString(int number, string json) => Add(new ProtoField(number, json, ProtoKind.IntOrString, KeepZero: true));

    public ProtoMessage Time(int number, string json) => Add(new ProtoField(number, json, ProtoKind.Time));

    public ProtoMessage Obj(int number, string json, ProtoMessage message) => Add(new ProtoField(number, json, ProtoKind.Message, Message: message));

    public ProtoMessage Objs(int number, string json, ProtoMessage message) => Add(new ProtoField(number, json, ProtoKind.Message, Repeated: true, Message: message));

    /// <summary>An embedded struct whose JSON is inlined into this one (<c>json:",inline"</c>).</summary>
    public ProtoMessage Inline(int number, ProtoMessage message) => Add(new ProtoField(number, "", ProtoKind.Message, Message: message, Inline: true));

    private ProtoMessage Add(ProtoField field)
    {
        _fields.Add(field.Number, field);
        return this;
    }
}
