using System.Text.Json;

namespace Greenhouse.Harvest;

/// <summary>A custom field value keyed by the field's immutable key; <see cref="Value"/> may be any JSON value.</summary>
public sealed record HarvestCustomField(string? Name, string? Type, JsonElement Value);
