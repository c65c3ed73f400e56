using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

[Description("Reference to a Secret in the same namespace.")]
public sealed record SecretReference
{
    [Required]
    [MinLength(1)]
    [Pattern(ResourceNames.DnsSubdomainPattern)]
    [MaxLength(253)]
    [Description("Name of the Secret.")]
    public string Name { get; init; } = "";
}
