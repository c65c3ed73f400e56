namespace Greenhouse.Harvest;

/// <summary>Credentials held in memory; <see cref="Current"/> may be replaced at run time.</summary>
public sealed class StaticHarvestCredentialSource(HarvestCredentials? credentials) : IHarvestCredentialSource
{
    private volatile HarvestCredentials? current = credentials;

    public HarvestCredentials? Current
    {
        get => current;
        set => current = value;
    }
}
