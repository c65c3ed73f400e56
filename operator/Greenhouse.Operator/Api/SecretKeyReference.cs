using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

[Description("Reference to one key of a Secret in the same namespace.")]
public sealed record SecretKeyReference
{
    [Required]
    [MinLength(1)]
    [Pattern(ResourceNames.DnsSubdomainPattern)]
    [MaxLength(253)]
    [Description("Name of the Secret.")]
    public string Name { get; init; } = "";

    [Default("secret_key")]
    [Pattern("^[-._a-zA-Z0-9]+$")]
    [MaxLength(253)]
    [Description("Key in the Secret that holds the value.")]
    public string? Key { get; init; }
}
