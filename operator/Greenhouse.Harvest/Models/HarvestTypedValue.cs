namespace Greenhouse.Harvest;

/// <summary>An e-mail, phone, address, website or social media entry; <see cref="Type"/> is absent on social media addresses.</summary>
public sealed record HarvestTypedValue(string? Value, string? Type = null);
