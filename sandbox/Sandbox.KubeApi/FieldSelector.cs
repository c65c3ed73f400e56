using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>Field selectors: field=value, field==value, field!=value joined by commas, with backslash escapes.</summary>
internal sealed class FieldSelector
{
    private readonly List<(string Field, bool Negated, string Value)> _terms;

    private FieldSelector(List<(string Field, bool Negated, string Value)> terms) => _terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    public bool IsEmpty => _terms.Count == 0;

    /// <summary>Parses and checks the fields against what the resource supports (400 otherwise).</summary>
    public static FieldSelector Parse(string? text, ResourceType type)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var terms = new List<(string, bool, string)>();
        foreach (var part in SplitUnescaped(text, ','))
        {
            if (part.Trim().Length == 0)
            {
                continue;
            }

            var (field, negated, value) = SplitTerm(part);
            field = field.Trim();
            if (!Supported(type, field))
            {
                throw ApiException.BadRequest($"field label not supported: {field}");
            }

            terms.Add((field, negated, value));
        }

        return new FieldSelector(terms);
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var (field, negated, value) in _terms)
        {
            var actual = Json.Scalar(Json.At(obj, field)) ?? "";
            if ((actual == value) == negated)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Supported(ResourceType type, string field) =>
        field == "metadata.name" || (field == "metadata.namespace" && type.Namespaced) || type.SelectableFields.Contains(field)
        || (type.Plural == "namespaces" && field == "status.phase");

    private static (string Field, bool Negated, string Value) SplitTerm(string term)
    {
        for (var i = 0; i < term.Length; i++)
        {
            if (term[i] == '\\')
            {
                i++;
                continue;
            }

            if (term[i] == '!' && i + 1 < term.Length && term[i + 1] == '=')
            {
                return (term[..i], true, Unescape(term[(i + 2)..]));
            }

            if (term[i] == '=')
            {
                var skip = i + 1 < term.Length && term[i + 1] == '=' ? 2 : 1;
                return (term[..i], false, Unescape(term[(i + skip)..]));
            }
        }

        throw ApiException.BadRequest($"invalid selector: '{term}'; can't understand '{term}'");
    }

    private static List<string> SplitUnescaped(string text, char separator)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                current.Append(text[i]).Append(text[i + 1]);
                i++;
            }
            else if (text[i] == separator)
            {
                parts.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(text[i]);
            }
        }

        parts.Add(current.ToString());
        return parts;
    }

    private static string Unescape(string value)
    {
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
            }

            sb.Append(value[i]);
        }

        return sb.ToString();
    }
}
