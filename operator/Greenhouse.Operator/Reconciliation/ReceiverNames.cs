namespace Greenhouse.Operator.Reconciliation;

/// <summary>Names of the objects owned by one integration (all prefixed, so they never clash with the user's Secrets).</summary>
public static class ReceiverNames
{
    public static string Receiver(string integration) => $"{integration}-receiver";

    public static string WebhookSecret(string integration) => $"{integration}-receiver-webhook";

    public static string HarvestSecret(string integration) => $"{integration}-receiver-harvest";

    public static string Data(string integration) => $"{integration}-receiver-data";
}
