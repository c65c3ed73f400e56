using System.Text.Json.Serialization;

namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// Source-generated (de)serialisation of stored candidate records: the processor serialises one
/// per applied change, so reflection-based metadata lookups showed up in its per-event cost.
/// Default options, so the JSON is the same as <c>JsonSerializer</c>'s without a context.
/// </summary>
[JsonSerializable(typeof(CandidateRecord))]
internal sealed partial class CandidateJson : JsonSerializerContext;
