namespace Greenhouse.Harvest;

/// <summary>Where and as whom a <see cref="HarvestWebhookClient"/> call goes: one integration's Harvest endpoints and client credentials.</summary>
public sealed record HarvestConnection(Uri BaseUrl, Uri TokenUrl, long? SyncUserId, string ClientId, string ClientSecret)
{
    public override string ToString() => $"HarvestConnection {{ BaseUrl = {BaseUrl}, ClientId = {ClientId} }}";
}
