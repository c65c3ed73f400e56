namespace ControllerRuntime.Schema;

/// <summary>A list of objects that is a map keyed on these fields (<c>x-kubernetes-list-type: map</c>): one element per key.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ListMapKeysAttribute : Attribute
{
    public ListMapKeysAttribute(params string[] keys) => Keys = keys;

    public IReadOnlyList<string> Keys { get; }
}
