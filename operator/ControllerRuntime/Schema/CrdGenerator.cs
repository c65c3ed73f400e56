using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;
using k8s.Models;

namespace ControllerRuntime.Schema;

/// <summary>
/// Builds a CustomResourceDefinition manifest (apiextensions.k8s.io/v1) from an entity type and the
/// schema attributes on it, so the C# types stay the single source of truth for the schema.
/// The result is a tree of ordered maps, lists and scalars, ready for a YAML or JSON serializer.
/// </summary>
public static class CrdGenerator
{
    /// <summary>A non-negative Kubernetes quantity (resource.Quantity's syntax): "500m", "1.5", "512Mi", "1e3".</summary>
    public const string QuantityPattern = @"^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

    public static OrderedDictionary<string, object?> Generate(Type entityType)
    {
        ArgumentNullException.ThrowIfNull(entityType);
        var entity = entityType.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{entityType.Name} has no [KubernetesEntity] attribute.", nameof(entityType));
        var resource = entityType.GetCustomAttribute<CustomResourceAttribute>() ?? new CustomResourceAttribute();
        var singular = entity.Kind.ToLowerInvariant();

        var names = Map(("kind", entity.Kind), ("listKind", entity.Kind + "List"), ("plural", entity.PluralName), ("singular", singular));
        if (resource.ShortNames.Length > 0)
        {
            names["shortNames"] = resource.ShortNames.ToList();
        }

        if (resource.Categories.Length > 0)
        {
            names["categories"] = resource.Categories.ToList();
        }

        var version = Map(("name", entity.ApiVersion), ("served", true), ("storage", true));
        version["schema"] = Map(("openAPIV3Schema", RootSchema(entityType)));
        if (resource.StatusSubresource)
        {
            version["subresources"] = Map(("status", new OrderedDictionary<string, object?>()));
        }

        var columns = entityType.GetCustomAttributes<PrinterColumnAttribute>().OrderBy(c => c.Order).Select(PrinterColumn).ToList();
        if (columns.Count > 0)
        {
            version["additionalPrinterColumns"] = columns;
        }

        return Map(
            ("apiVersion", "apiextensions.k8s.io/v1"),
            ("kind", "CustomResourceDefinition"),
            ("metadata", Map(("name", $"{entity.PluralName}.{entity.Group}"))),
            ("spec", Map(
                ("group", entity.Group),
                ("names", names),
                ("scope", resource.Namespaced ? "Namespaced" : "Cluster"),
                ("versions", new List<object?> { version }))));
    }

    private static OrderedDictionary<string, object?> RootSchema(Type entityType)
    {
        var schema = Map(("type", "object"));
        AddDescription(schema, entityType.GetCustomAttribute<DescriptionAttribute>());
        var properties = Map(
            ("apiVersion", Map(("type", "string"), ("description", "APIVersion defines the versioned schema of this representation of an object."))),
            ("kind", Map(("type", "string"), ("description", "Kind is a string value representing the REST resource this object represents."))),
            ("metadata", Map(("type", "object"))));
        if (entityType.GetCustomAttribute<NameRulesAttribute>() is { } nameRules)
        {
            properties["metadata"] = Map(("type", "object"), ("properties", Map(("name", Map(("type", "string"), ("maxLength", nameRules.MaxLength), ("pattern", nameRules.Pattern))))));
        }

        var required = new List<object?>();
        foreach (var property in SchemaProperties(entityType))
        {
            properties[JsonName(property)] = PropertySchema(property);
            if (property.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                required.Add(JsonName(property));
            }
        }

        schema["properties"] = properties;
        if (required.Count > 0)
        {
            schema["required"] = required;
        }

        return schema;
    }

    private static IEnumerable<PropertyInfo> SchemaProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Where(p => p.Name is not ("ApiVersion" or "Kind" or "Metadata"))
            .OrderBy(p => p.MetadataToken);

    private static OrderedDictionary<string, object?> PropertySchema(PropertyInfo property)
    {
        var schema = TypeSchema(property.PropertyType, property);
        AddDescription(schema, property.GetCustomAttribute<DescriptionAttribute>() ?? property.PropertyType.GetCustomAttribute<DescriptionAttribute>());

        if (property.GetCustomAttribute<FormatAttribute>() is { } format)
        {
            schema["format"] = format.Name;
        }

        if (property.GetCustomAttribute<PatternAttribute>() is { } pattern)
        {
            schema["pattern"] = pattern.Expression;
        }

        if (property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
        {
            var target = schema.TryGetValue("items", out var items) && items is OrderedDictionary<string, object?> itemSchema ? itemSchema : schema;
            target["enum"] = allowed.Values.Cast<object?>().ToList();
        }

        if (property.GetCustomAttribute<MinimumAttribute>() is { } minimum)
        {
            schema["minimum"] = minimum.Value;
        }

        if (property.GetCustomAttribute<MaximumAttribute>() is { } maximum)
        {
            schema["maximum"] = maximum.Value;
        }

        if (property.GetCustomAttribute<MinLengthAttribute>() is { } minLength)
        {
            schema["minLength"] = minLength.Value;
        }

        if (property.GetCustomAttribute<MaxLengthAttribute>() is { } maxLength)
        {
            schema["maxLength"] = maxLength.Value;
        }

        if (property.GetCustomAttribute<MinItemsAttribute>() is { } minItems)
        {
            schema["minItems"] = minItems.Value;
        }

        if (property.GetCustomAttribute<DefaultAttribute>() is { } defaultValue)
        {
            schema["default"] = defaultValue.Value;
        }
        else if (property.GetCustomAttribute<DefaultEmptyObjectAttribute>() is not null)
        {
            schema["default"] = new OrderedDictionary<string, object?>();
        }

        if (property.GetCustomAttribute<PreserveUnknownFieldsAttribute>() is not null)
        {
            schema["x-kubernetes-preserve-unknown-fields"] = true;
        }

        if (property.GetCustomAttribute<ListMapKeysAttribute>() is { } mapKeys)
        {
            schema["x-kubernetes-list-type"] = "map";
            schema["x-kubernetes-list-map-keys"] = mapKeys.Keys.Cast<object?>().ToList();
        }

        AddValidations(schema, property.GetCustomAttributes<ValidationRuleAttribute>());
        return schema;
    }

    private static OrderedDictionary<string, object?> TypeSchema(Type type, PropertyInfo? property)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return Map(("type", "string"));
        }

        if (type == typeof(bool))
        {
            return Map(("type", "boolean"));
        }

        if (type == typeof(int) || type == typeof(long))
        {
            return Map(("type", "integer"), ("format", type == typeof(int) ? "int32" : "int64"));
        }

        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return Map(("type", "number"));
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return Map(("type", "string"), ("format", "date-time"));
        }

        if (type == typeof(ResourceQuantity))
        {
            // As the API server parses quantities: a typo like "512MB" is refused at the API, not in a controller.
            return Map(("x-kubernetes-int-or-string", true), ("pattern", QuantityPattern));
        }

        if (type == typeof(IntOrString))
        {
            return Map(("x-kubernetes-int-or-string", true));
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            return Map(("type", "object"), ("additionalProperties", TypeSchema(valueType, null)));
        }

        if (ElementType(type) is { } elementType)
        {
            return Map(("type", "array"), ("items", TypeSchema(elementType, null)));
        }

        // KubernetesClient's own models (tolerations, ...) are validated by the workloads that use them.
        if (type.Namespace == typeof(V1ObjectMeta).Namespace || type.GetCustomAttribute<PreserveUnknownFieldsAttribute>() is not null)
        {
            var opaque = Map(("type", "object"), ("x-kubernetes-preserve-unknown-fields", true));
            AddDescription(opaque, type.GetCustomAttribute<DescriptionAttribute>());
            return opaque;
        }

        if (type.IsPrimitive || type.IsEnum)
        {
            throw new NotSupportedException($"Schema for {type.Name} (property {property?.Name}) is not supported; use string with [AllowedValues] for enumerations.");
        }

        var schema = Map(("type", "object"));
        var properties = new OrderedDictionary<string, object?>();
        var required = new List<object?>();
        foreach (var child in SchemaProperties(type))
        {
            properties[JsonName(child)] = PropertySchema(child);
            if (child.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                required.Add(JsonName(child));
            }
        }

        schema["properties"] = properties;
        if (required.Count > 0)
        {
            schema["required"] = required;
        }

        AddValidations(schema, type.GetCustomAttributes<ValidationRuleAttribute>());
        return schema;
    }

    private static void AddValidations(OrderedDictionary<string, object?> schema, IEnumerable<ValidationRuleAttribute> rules)
    {
        var list = rules.Select(r => (object?)Map(("rule", r.Rule), ("message", r.Message))).ToList();
        if (list.Count > 0)
        {
            schema["x-kubernetes-validations"] = list;
        }
    }

    private static OrderedDictionary<string, object?> PrinterColumn(PrinterColumnAttribute column)
    {
        var map = Map(("name", column.Name), ("type", column.Type), ("jsonPath", column.JsonPath));
        if (column.Description is not null)
        {
            map["description"] = column.Description;
        }

        if (column.Priority > 0)
        {
            map["priority"] = column.Priority;
        }

        return map;
    }

    private static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary?.GetGenericArguments() is [var key, var value] && key == typeof(string) ? value : null;
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    private static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
        ?? string.Create(CultureInfo.InvariantCulture, $"{char.ToLowerInvariant(property.Name[0])}{property.Name[1..]}");

    private static void AddDescription(OrderedDictionary<string, object?> schema, DescriptionAttribute? description)
    {
        if (description is not null)
        {
            // Right after "type", where a reader of the YAML looks for it.
            schema.Insert(Math.Min(1, schema.Count), "description", description.Text);
        }
    }

    private static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] entries)
    {
        var map = new OrderedDictionary<string, object?>();
        foreach (var (key, value) in entries)
        {
            map[key] = value;
        }

        return map;
    }
}
