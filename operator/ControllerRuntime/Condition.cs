using ControllerRuntime.Schema;

namespace ControllerRuntime;

/// <summary>A status condition in the shape of metav1.Condition.</summary>
[Description("Condition in the shape of metav1.Condition.")]
public sealed record Condition
{
    [Required]
    [Description("Condition type in CamelCase.")]
    public string Type { get; init; } = "";

    [Required]
    [AllowedValues("True", "False", "Unknown")]
    [Description("True, False or Unknown.")]
    public string Status { get; init; } = "Unknown";

    [Description("Machine-readable reason for the last transition, in CamelCase.")]
    public string? Reason { get; init; }

    [Description("What happened and what to do about it.")]
    public string? Message { get; init; }

    [Description("When the status last changed.")]
    public DateTime? LastTransitionTime { get; init; }

    [Description("The metadata.generation the condition was computed from.")]
    public long? ObservedGeneration { get; init; }
}
