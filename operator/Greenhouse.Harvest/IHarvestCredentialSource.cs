namespace Greenhouse.Harvest;

/// <summary>Supplies the credentials in force right now; the receiver implements it over hot-reloaded files. A change is picked up on the next token request.</summary>
public interface IHarvestCredentialSource
{
    /// <summary>The current credentials, or null when none are configured.</summary>
    HarvestCredentials? Current { get; }
}
