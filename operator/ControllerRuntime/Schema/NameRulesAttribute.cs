namespace ControllerRuntime.Schema;

/// <summary>
/// Restricts <c>metadata.name</c> of a custom resource (the only metadata a CRD schema may restrict), e.g. so
/// names derived from it stay valid DNS labels.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class NameRulesAttribute : Attribute
{
    public NameRulesAttribute(int maxLength, string pattern)
    {
        MaxLength = maxLength;
        Pattern = pattern;
    }

    public int MaxLength { get; }

    public string Pattern { get; }
}
