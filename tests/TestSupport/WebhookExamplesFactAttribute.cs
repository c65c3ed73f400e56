using System.Reflection;
using Xunit;

namespace Greenhouse.Testing;

/// <summary>
/// A fact that replays Greenhouse's example payloads from ../shared (beside the clone, never copied
/// into it). Where they are absent (a user's clone) it is skipped, and the reason names the tests of
/// the same class that exercise the same code with the project's own bodies and run everywhere;
/// <see cref="CheckCoverage"/> keeps those names true.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class WebhookExamplesFactAttribute : FactAttribute
{
    /// <param name="coveredBy">A test of the same class that runs without the examples and covers what this one replays (required: a skip always names one).</param>
    /// <param name="alsoCoveredBy">More such tests.</param>
    public WebhookExamplesFactAttribute(string coveredBy, params string[] alsoCoveredBy)
    {
        CoveredBy = [coveredBy, .. alsoCoveredBy];
        if (RepositoryPaths.WebhookExamples is null)
        {
            Skip = $"{RepositoryPaths.NoWebhookExamplesReason} Without them the same code is still tested by {string.Join(", ", CoveredBy)}.";
        }
    }

    /// <summary>Tests of the same class, run with or without the examples, that cover what this one replays.</summary>
    public IReadOnlyList<string> CoveredBy { get; }

    /// <summary>Every example fact of <paramref name="assembly"/> whose covering tests are missing, not tests of its class, or example facts themselves.</summary>
    public static IEnumerable<string> CheckCoverage(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods())
            {
                if (method.GetCustomAttribute<WebhookExamplesFactAttribute>() is not { } fact)
                {
                    continue;
                }
                foreach (var name in fact.CoveredBy)
                {
                    var covering = type.GetMethod(name);
                    if (covering?.GetCustomAttribute<FactAttribute>() is not { } other || other is WebhookExamplesFactAttribute)
                    {
                        yield return $"{type.Name}.{method.Name} names {name}, which is not a test of {type.Name} that runs without the examples";
                    }
                }
            }
        }
    }
}
