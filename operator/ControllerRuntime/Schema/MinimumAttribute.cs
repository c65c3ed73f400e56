namespace ControllerRuntime.Schema;

/// <summary>Smallest accepted number (inclusive).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MinimumAttribute : Attribute
{
    public MinimumAttribute(long value) => Value = value;

    public long Value { get; }
}
