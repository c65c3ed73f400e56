namespace Greenhouse.Harvest;

/// <summary>One validation error; <see cref="Field"/> is null when Harvest sent a bare message.</summary>
public sealed record HarvestFieldError(string? Field, string Message);
