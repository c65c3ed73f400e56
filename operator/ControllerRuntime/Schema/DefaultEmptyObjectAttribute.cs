namespace ControllerRuntime.Schema;

/// <summary>Default an absent object field to <c>{}</c>, so the defaults of its own fields apply too.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DefaultEmptyObjectAttribute : Attribute;
