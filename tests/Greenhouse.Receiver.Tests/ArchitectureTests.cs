using System.Reflection;
using System.Reflection.Emit;
using Greenhouse.Receiver.Storage;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Tests;

/// <summary>
/// Dependencies between the receiver's namespaces, read from the compiled assembly: signatures,
/// fields, base types and every member a method body touches (its IL), compiler-generated
/// closures and state machines included (counted for the type that declares them). The root
/// namespace (the composition root: ReceiverApplication, ReceiverOptionsLoader) may use every other
/// one and none may use it.
/// </summary>
public sealed class ArchitectureTests
{
    private const string Root = "Greenhouse.Receiver";
    private static readonly Assembly Receiver = typeof(ReceiverDatabase).Assembly;
    private static readonly Lazy<Dictionary<Type, HashSet<Type>>> References = new(ReadReferences);

    [Fact]
    public void The_receiver_namespaces_have_no_cycles()
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (type, used) in References.Value)
        {
            var from = Namespace(type);
            var edges = graph.TryGetValue(from, out var set) ? set : graph[from] = new HashSet<string>(StringComparer.Ordinal);
            foreach (var target in used)
            {
                var to = Namespace(target);
                if (to != from && to.StartsWith(Root + ".", StringComparison.Ordinal))
                {
                    edges.Add(to);
                }
            }
        }
        var cycles = StronglyConnected(graph).Where(c => c.Count > 1).Select(c => string.Join(" <-> ", c.Order(StringComparer.Ordinal))).ToList();
        Assert.True(cycles.Count == 0, "Namespace cycles: " + string.Join("; ", cycles) + Environment.NewLine + Explain(graph, cycles));
    }

    [Fact]
    public void Only_the_storage_namespace_touches_sqlite()
    {
        var offenders = References.Value
            .Where(entry => !Namespace(entry.Key).StartsWith(Root + ".Storage", StringComparison.Ordinal))
            .Where(entry => entry.Value.Any(t => t.Namespace == typeof(SqliteConnection).Namespace))
            .Select(entry => entry.Key.FullName)
            .ToList();
        Assert.True(offenders.Count == 0, "SQL outside Greenhouse.Receiver.Storage: " + string.Join(", ", offenders));
    }

    [Fact]
    public void The_event_processor_depends_only_on_what_the_processing_loop_needs()
    {
        var processor = References.Value[typeof(Processing.EventProcessor)];
        // No Sync (the Processing <-> Sync cycle), no SQLite, no WAL files: storage is the stores' business.
        Assert.DoesNotContain(processor, t => t.Namespace == Root + ".Sync");
        Assert.DoesNotContain(processor, t => t == typeof(FileStream));
    }

    private static string Explain(Dictionary<string, HashSet<string>> graph, List<string> cycles)
    {
        if (cycles.Count == 0)
        {
            return "";
        }
        var lines = new List<string>();
        foreach (var (type, used) in References.Value)
        {
            var from = Namespace(type);
            foreach (var target in used.Select(Namespace).Distinct())
            {
                if (target != from && target.StartsWith(Root + ".", StringComparison.Ordinal) && graph.TryGetValue(target, out var back) && back.Contains(from))
                {
                    lines.Add($"{type.FullName} -> {target}");
                }
            }
        }
        return string.Join(Environment.NewLine, lines.Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>The namespace a type counts for: nested types (closures, state machines) count for their outermost declaring type.</summary>
    private static string Namespace(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }
        return type.Namespace ?? "";
    }

    private static Dictionary<Type, HashSet<Type>> ReadReferences()
    {
        var result = new Dictionary<Type, HashSet<Type>>();
        foreach (var type in Receiver.GetTypes())
        {
            var outer = type;
            while (outer.DeclaringType is { } declaring)
            {
                outer = declaring;
            }
            if (!result.TryGetValue(outer, out var used))
            {
                used = [];
                result[outer] = used;
            }
            Collect(type, used);
        }
        return result;
    }

    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static void Collect(Type type, HashSet<Type> used)
    {
        Add(used, type.BaseType);
        foreach (var face in type.GetInterfaces())
        {
            Add(used, face);
        }
        foreach (var field in type.GetFields(Everything))
        {
            Add(used, field.FieldType);
        }
        foreach (var property in type.GetProperties(Everything))
        {
            Add(used, property.PropertyType);
        }
        foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info)
            {
                Add(used, info.ReturnType);
            }
            foreach (var parameter in method.GetParameters())
            {
                Add(used, parameter.ParameterType);
            }
            var body = method.GetMethodBody();
            if (body is null)
            {
                continue;
            }
            foreach (var local in body.LocalVariables)
            {
                Add(used, local.LocalType);
            }
            foreach (var member in IlReferences(method, body))
            {
                switch (member)
                {
                    case Type t:
                        Add(used, t);
                        break;
                    case MemberInfo m:
                        Add(used, m.DeclaringType);
                        break;
                }
            }
        }
    }

    private static void Add(HashSet<Type> used, Type? type)
    {
        if (type is null)
        {
            return;
        }
        if (type.HasElementType)
        {
            Add(used, type.GetElementType());
            return;
        }
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Add(used, argument);
            }
            type = type.GetGenericTypeDefinition();
        }
        if (!type.IsGenericParameter)
        {
            used.Add(type);
        }
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Every type, method and field token in the method's IL, resolved.</summary>
    private static IEnumerable<MemberInfo> IlReferences(MethodBase method, MethodBody body)
    {
        var il = body.GetILAsByteArray() ?? [];
        var module = method.Module;
        var typeArguments = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var at = 0;
        while (at < il.Length)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            var code = OpCodesByValue[value];
            switch (code.OperandType)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, at);
                    MemberInfo? member = null;
                    try
                    {
                        member = module.ResolveMember(token, typeArguments, methodArguments);
                    }
                    catch (ArgumentException)
                    {
                    }
                    if (member is not null)
                    {
                        yield return member;
                    }
                    at += 4;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    at += 1;
                    break;
                case OperandType.InlineVar:
                    at += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    at += 8;
                    break;
                case OperandType.InlineSwitch:
                    var count = BitConverter.ToInt32(il, at);
                    at += 4 + (4 * count);
                    break;
                default:
                    at += 4;
                    break;
            }
        }
    }

    /// <summary>Tarjan's strongly connected components.</summary>
    private static List<List<string>> StronglyConnected(Dictionary<string, HashSet<string>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var components = new List<List<string>>();
        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in graph.GetValueOrDefault(node) ?? [])
            {
                if (!index.ContainsKey(next))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next) && index.TryGetValue(next, out var reached))
                {
                    low[node] = Math.Min(low[node], reached);
                }
            }
            if (low[node] == index[node])
            {
                var component = new List<string>();
                string top;
                do
                {
                    top = stack.Pop();
                    onStack.Remove(top);
                    component.Add(top);
                }
                while (top != node);
                components.Add(component);
            }
        }
        foreach (var node in graph.Keys.ToList())
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }
        return components;
    }
}
