namespace ControllerRuntime.Schema;

/// <summary>Fewest accepted array items.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MinItemsAttribute : Attribute
{
    public MinItemsAttribute(long value) => Value = value;

    public long Value { get; }
}
