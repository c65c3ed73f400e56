namespace Greenhouse.Operator.Reconciliation;

/// <summary>Harvest v3 OAuth client credentials as stored in Secrets.</summary>
public sealed record HarvestCredentials(ReadOnlyMemory<byte> ClientId, ReadOnlyMemory<byte> ClientSecret, ReadOnlyMemory<byte>? PreviousClientSecret);
