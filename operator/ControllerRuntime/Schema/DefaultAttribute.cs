namespace ControllerRuntime.Schema;

/// <summary>Value the API server fills in when the field is absent.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DefaultAttribute : Attribute
{
    public DefaultAttribute(string value) => Value = value;

    public DefaultAttribute(long value) => Value = value;

    public DefaultAttribute(bool value) => Value = value;

    public object Value { get; }
}
