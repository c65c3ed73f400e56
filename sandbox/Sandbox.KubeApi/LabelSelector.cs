using System.Globalization;
using System.Text.RegularExpressions;

namespace Sandbox.KubeApi;

/// <summary>The full label selector grammar of kube-apiserver (=, ==, !=, in, notin, exists, !exists, &gt;, &lt;).</summary>
internal sealed partial class LabelSelector
{
    private readonly List<Requirement> _requirements;

    private LabelSelector(List<Requirement> requirements) => _requirements = requirements;

    public static LabelSelector Everything { get; } = new([]);

    public bool IsEmpty => _requirements.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels) => _requirements.TrueForAll(r => r.Matches(labels));

    /// <summary>Parses a selector string; syntax errors become 400 BadRequest.</summary>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var tokens = Tokenize(text);
        var reqs = new List<Requirement>();
        var i = 0;
        while (i < tokens.Count)
        {
            var negated = false;
            if (tokens[i] == "!")
            {
                negated = true;
                i++;
            }

            if (i >= tokens.Count || IsOperator(tokens[i]))
            {
                throw Bad(text, "expected a label key");
            }

            var key = tokens[i++];
            ValidateKey(text, key);
            if (negated)
            {
                reqs.Add(new Requirement(key, Op.NotExists, []));
            }
            else if (i >= tokens.Count || tokens[i] == ",")
            {
                reqs.Add(new Requirement(key, Op.Exists, []));
            }
            else
            {
                var op = tokens[i++];
                switch (op)
                {
                    case "=" or "==" or "!=" or ">" or "<":
                        {
                            var value = i < tokens.Count && !IsOperator(tokens[i]) ? tokens[i++] : "";
                            if (op is ">" or "<" && !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                            {
                                throw Bad(text, $"for 'Gt', 'Lt' operators, the value must be an integer");
                            }

                            ValidateValue(text, value);
                            reqs.Add(new Requirement(key, op switch { "!=" => Op.NotEquals, ">" => Op.Gt, "<" => Op.Lt, _ => Op.Equals }, [value]));
                            break;
                        }

                    case "in" or "notin":
                        {
                            if (i >= tokens.Count || tokens[i] != "(")
                            {
                                throw Bad(text, "found '" + (i < tokens.Count ? tokens[i] : "") + "', expected: '('");
                            }

                            i++;
                            var values = new List<string>();
                            while (i < tokens.Count && tokens[i] != ")")
                            {
                                if (tokens[i] == ",")
                                {
                                    i++;
                                    continue;
                                }

                                if (IsOperator(tokens[i]))
                                {
                                    throw Bad(text, $"unexpected '{tokens[i]}' in value list");
                                }

                                ValidateValue(text, tokens[i]);
                                values.Add(tokens[i++]);
                            }

                            if (i >= tokens.Count)
                            {
                                throw Bad(text, "found '', expected: ')'");
                            }

                            i++;
                            if (values.Count == 0)
                            {
                                throw Bad(text, "for 'in', 'notin' operators, values set can't be empty");
                            }

                            reqs.Add(new Requirement(key, op == "in" ? Op.In : Op.NotIn, [.. values]));
                            break;
                        }

                    default:
                        throw Bad(text, $"found '{op}', expected: in, notin, =, ==, !=, gt, lt");
                }
            }

            if (i < tokens.Count)
            {
                if (tokens[i] != ",")
                {
                    throw Bad(text, $"found '{tokens[i]}', expected: ',' or 'end of string'");
                }

                i++;
                if (i >= tokens.Count)
                {
                    throw Bad(text, "found '', expected: identifier after ','");
                }
            }
        }

        return new LabelSelector(reqs);
    }

    private static bool IsOperator(string t) => t is "=" or "==" or "!=" or "!" or ">" or "<" or "(" or ")" or "," or "in" or "notin";

    private static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '(' or ')' or ',' or '>' or '<')
            {
                tokens.Add(c.ToString());
                i++;
            }
            else if (c == '!')
            {
                tokens.Add(i + 1 < text.Length && text[i + 1] == '=' ? "!=" : "!");
                i += tokens[^1].Length;
            }
            else if (c == '=')
            {
                tokens.Add(i + 1 < text.Length && text[i + 1] == '=' ? "==" : "=");
                i += tokens[^1].Length;
            }
            else
            {
                var start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('(' or ')' or ',' or '>' or '<' or '!' or '='))
                {
                    i++;
                }

                tokens.Add(text[start..i]);
            }
        }

        return tokens;
    }

    internal static string? KeyError(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var name = slash >= 0 ? key[(slash + 1)..] : key;
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (prefix.Length == 0 || prefix.Length > 253 || !SubdomainRegex().IsMatch(prefix))
            {
                return "prefix part must be a DNS-1123 subdomain";
            }
        }

        if (name.Length == 0 || name.Length > 63 || !NameRegex().IsMatch(name))
        {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
        }

        return null;
    }

    internal static string? ValueError(string value) =>
        value.Length == 0 || (value.Length <= 63 && NameRegex().IsMatch(value)) ? null
            : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

    private static void ValidateKey(string text, string key)
    {
        if (KeyError(key) is { } e)
        {
            throw Bad(text, $"invalid label key \"{key}\": {e}");
        }
    }

    private static void ValidateValue(string text, string value)
    {
        if (ValueError(value) is { } e)
        {
            throw Bad(text, $"invalid label value: \"{value}\": {e}");
        }
    }

    private static ApiException Bad(string text, string why) =>
        ApiException.BadRequest($"unable to parse requirement: {why} (selector \"{text}\")");

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex NameRegex();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    internal static partial Regex SubdomainRegex();

    private enum Op
    {
        Equals,
        NotEquals,
        In,
        NotIn,
        Exists,
        NotExists,
        Gt,
        Lt,
    }

    private sealed record Requirement(string Key, Op Op, string[] Values)
    {
        public bool Matches(IReadOnlyDictionary<string, string> labels)
        {
            var has = labels.TryGetValue(Key, out var v);
            return Op switch
            {
                Op.Equals => has && v == Values[0],
                Op.NotEquals => !has || v != Values[0],
                Op.In => has && Values.Contains(v),
                Op.NotIn => !has || !Values.Contains(v),
                Op.Exists => has,
                Op.NotExists => !has,
                Op.Gt => has && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var g) && g > long.Parse(Values[0], CultureInfo.InvariantCulture),
                Op.Lt => has && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && l < long.Parse(Values[0], CultureInfo.InvariantCulture),
                _ => false,
            };
        }
    }
}
