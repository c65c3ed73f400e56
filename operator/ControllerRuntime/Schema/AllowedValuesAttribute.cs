namespace ControllerRuntime.Schema;

/// <summary>The only values a string field (or each item of a string array) may take.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AllowedValuesAttribute : Attribute
{
    public AllowedValuesAttribute(params string[] values) => Values = values;

    public IReadOnlyList<string> Values { get; }
}
