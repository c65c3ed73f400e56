namespace Greenhouse.Operator.Reconciliation;

/// <summary>Names of the objects owned by one integration (all prefixed, so they never clash with the user's Secrets).</summary>
public static class ReceiverNames
{
    public static string Receiver(string integration) => $"{integration}-receiver";

    public static string WebhookSecret(string integration) => $"{integration}-receiver-webhook";

    public static string HarvestSecret(string integration) => $"{integration}-receiver-harvest";

    public static string Data(string integration) => $"{integration}-receiver-data";

    /// <summary>The audience API clients request tokens for (<c>kubectl create token SA --audience ...</c>): specific to one receiver, so a token for one cannot be used at another.</summary>
    public static string ApiAudience(string ns, string integration) => $"greenhouse-receiver/{ns}/{integration}";
}
