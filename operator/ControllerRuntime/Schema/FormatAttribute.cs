namespace ControllerRuntime.Schema;

/// <summary>OpenAPI format of a string field (uri, email, date-time, ...).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FormatAttribute : Attribute
{
    public FormatAttribute(string name) => Name = name;

    public string Name { get; }
}
