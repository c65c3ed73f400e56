namespace Greenhouse.Harvest;

/// <summary>OAuth client credentials of a Harvest v3 integration. <see cref="PreviousClientSecret"/> is tried when the current secret is rejected (rotation overlap).</summary>
public sealed record HarvestCredentials(string ClientId, string ClientSecret, string? PreviousClientSecret = null)
{
    // Keeps secrets out of logs and exception messages that print the record.
    public override string ToString() => $"HarvestCredentials {{ ClientId = {ClientId} }}";
}
