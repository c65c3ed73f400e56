using ControllerRuntime.Schema;

namespace ControllerRuntime;

/// <summary>A status condition in the shape of metav1.Condition.</summary>
[Description("Condition in the shape of metav1.Condition.")]
public sealed record Condition
{
    [Required]
    [MaxLength(316)]
    [Pattern(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$")]
    [Description("Condition type in CamelCase.")]
    public string Type { get; init; } = "";

    [Required]
    [AllowedValues("True", "False", "Unknown")]
    [Description("True, False or Unknown.")]
    public string Status { get; init; } = "Unknown";

    [Required]
    [MinLength(1)]
    [MaxLength(1024)]
    [Pattern("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")]
    [Description("Machine-readable reason for the last transition, in CamelCase.")]
    public string? Reason { get; init; }

    [Required]
    [MaxLength(32768)]
    [Description("What happened and what to do about it.")]
    public string? Message { get; init; }

    [Required]
    [Description("When the status last changed.")]
    public DateTime? LastTransitionTime { get; init; }

    [Minimum(0)]
    [Description("The metadata.generation the condition was computed from.")]
    public long? ObservedGeneration { get; init; }
}
