namespace Greenhouse.Contracts;

/// <summary>
/// Receiver settings that describe the Greenhouse account (spec.greenhouse): the operator writes
/// them into the receiver's ConfigMap, the receiver reads them. One spelling for both sides.
/// </summary>
public static class GreenhouseAccountSettings
{
    /// <summary>Host of the Greenhouse web app; candidate profile links are https://&lt;host&gt;/people/&lt;id&gt;.</summary>
    public const string SsoDomain = "Greenhouse:SsoDomain";

    /// <summary>The account's maildrop address, served by the Integration read so clients know where to BCC.</summary>
    public const string MaildropEmail = "Greenhouse:MaildropEmail";

    /// <summary>The environment variable name of a setting (.NET configuration maps "__" to ":").</summary>
    public static string EnvironmentVariable(string setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return setting.Replace(":", "__", StringComparison.Ordinal);
    }
}
