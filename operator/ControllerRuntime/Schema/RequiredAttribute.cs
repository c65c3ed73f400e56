namespace ControllerRuntime.Schema;

/// <summary>The field must be present in the object the API server accepts.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredAttribute : Attribute;
