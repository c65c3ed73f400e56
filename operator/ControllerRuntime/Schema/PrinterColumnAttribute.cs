namespace ControllerRuntime.Schema;

/// <summary>A column <c>kubectl get</c> prints for the custom resource, in declaration order.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class PrinterColumnAttribute : Attribute
{
    public PrinterColumnAttribute(int order, string name, string type, string jsonPath)
    {
        Order = order;
        Name = name;
        Type = type;
        JsonPath = jsonPath;
    }

    /// <summary>Position among the columns (attributes carry no reliable declaration order).</summary>
    public int Order { get; }

    public string Name { get; }

    /// <summary>integer, number, string, boolean or date.</summary>
    public string Type { get; }

    public string JsonPath { get; }

    public string? Description { get; init; }

    /// <summary>Columns with a priority above 0 appear only with <c>-o wide</c>.</summary>
    public int Priority { get; init; }
}
