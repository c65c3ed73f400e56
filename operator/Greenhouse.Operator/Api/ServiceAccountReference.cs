using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

[Description("Reference to a ServiceAccount, in any namespace.")]
public sealed record ServiceAccountReference
{
    [Required]
    [MinLength(1)]
    [Description("Namespace of the ServiceAccount.")]
    public string Namespace { get; init; } = "";

    [Required]
    [MinLength(1)]
    [Description("Name of the ServiceAccount.")]
    public string Name { get; init; } = "";
}
