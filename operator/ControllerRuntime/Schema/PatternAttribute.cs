namespace ControllerRuntime.Schema;

/// <summary>ECMA-262 regular expression a string field must match.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PatternAttribute : Attribute
{
    public PatternAttribute(string expression) => Expression = expression;

    public string Expression { get; }
}
