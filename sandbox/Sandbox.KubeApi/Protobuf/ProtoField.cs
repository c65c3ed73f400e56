namespace Sandbox.KubeApi.Protobuf;

/// <summary>
/// One field of a <see cref="ProtoMessage"/>. Go's generated marshallers always write non-pointer
/// scalars, so a zero string, number or bool is dropped (as <c>omitempty</c> drops it from JSON)
/// unless <see cref="KeepZero"/> says the Go field is a pointer or has no <c>omitempty</c>.
/// </summary>
internal sealed record ProtoField(int Number, string Json, ProtoKind Kind, bool Repeated = false, bool KeepZero = false, ProtoMessage? Message = null, bool Inline = false);
