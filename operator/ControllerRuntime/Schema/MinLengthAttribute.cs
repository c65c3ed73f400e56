namespace ControllerRuntime.Schema;

/// <summary>Shortest accepted string.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MinLengthAttribute : Attribute
{
    public MinLengthAttribute(long value) => Value = value;

    public long Value { get; }
}
