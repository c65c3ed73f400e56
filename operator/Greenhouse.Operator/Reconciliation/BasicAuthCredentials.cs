namespace Greenhouse.Operator.Reconciliation;

/// <summary>Basic-auth user and password Greenhouse sends with each delivery.</summary>
public sealed record BasicAuthCredentials(ReadOnlyMemory<byte> Username, ReadOnlyMemory<byte> Password);
