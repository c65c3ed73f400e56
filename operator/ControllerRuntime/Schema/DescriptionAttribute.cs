namespace ControllerRuntime.Schema;

/// <summary>Schema description of a type or field; shown by <c>kubectl explain</c>.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Property)]
public sealed class DescriptionAttribute : Attribute
{
    public DescriptionAttribute(string text) => Text = text;

    public string Text { get; }
}
