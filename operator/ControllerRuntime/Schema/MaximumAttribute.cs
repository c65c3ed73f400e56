namespace ControllerRuntime.Schema;

/// <summary>Largest accepted number (inclusive).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MaximumAttribute : Attribute
{
    public MaximumAttribute(long value) => Value = value;

    public long Value { get; }
}
