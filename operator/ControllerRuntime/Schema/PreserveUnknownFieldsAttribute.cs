namespace ControllerRuntime.Schema;

/// <summary>Keep fields the schema does not describe instead of pruning them (x-kubernetes-preserve-unknown-fields).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Property)]
public sealed class PreserveUnknownFieldsAttribute : Attribute;
