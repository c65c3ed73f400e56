namespace ControllerRuntime.Schema;

/// <summary>
/// A CEL rule (<c>x-kubernetes-validations</c>) the API server checks; rules using <c>oldSelf</c> are transition
/// rules (checked on update only). Servers without CEL skip them, so enforce the same rule in the controller too.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class, AllowMultiple = true)]
public sealed class ValidationRuleAttribute : Attribute
{
    public ValidationRuleAttribute(string rule, string message)
    {
        Rule = rule;
        Message = message;
    }

    public string Rule { get; }

    public string Message { get; }
}
