namespace Greenhouse.Operator.Api;

/// <summary>Name rules of the schema, so every name derived from an integration's is valid.</summary>
public static class ResourceNames
{
    /// <summary>
    /// The longest integration name: the Service "&lt;name&gt;-receiver" must be a DNS-1035 label of at most 63
    /// characters (the other derived names are DNS subdomains of up to 253, and the instance label value is at most 63).
    /// </summary>
    public const int MaxIntegrationNameLength = 63 - 9;

    /// <summary>DNS-1035 label: lower case letters, digits and '-', starting with a letter (required of Service names).</summary>
    public const string DnsLabelPattern = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

    /// <summary>DNS-1123 subdomain (names of Secrets, classes).</summary>
    public const string DnsSubdomainPattern = @"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
}
