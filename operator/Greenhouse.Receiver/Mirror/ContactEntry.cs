namespace Greenhouse.Receiver.Mirror;

public sealed record ContactEntry(string Value, string? Type);
