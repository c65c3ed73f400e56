namespace ControllerRuntime.Schema;

/// <summary>Longest accepted string.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MaxLengthAttribute : Attribute
{
    public MaxLengthAttribute(long value) => Value = value;

    public long Value { get; }
}
