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
    public WebhookExamplesFactAttribute(params string[] coveredBy)
    {
        CoveredBy = coveredBy;
        if (RepositoryPaths.WebhookExamples is null)
        {
            // CheckCoverage fails the build's tests when a fact names no covering test, so the reason never claims coverage it lacks.
            Skip = coveredBy.Length == 0
                ? RepositoryPaths.NoWebhookExamplesReason
                : $"{RepositoryPaths.NoWebhookExamplesReason} Without them the same code is still tested by {string.Join(", ", coveredBy)}.";
        }
    }

    /// <summary>Tests of the same class, run with or without the examples, that cover what this one replays.</summary>
    public IReadOnlyList<string> CoveredBy { get; }

    /// <summary>Every example fact of <paramref name="assembly"/> whose covering tests are missing, not facts, or example facts themselves.</summary>
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
                if (fact.CoveredBy.Count == 0)
                {
                    yield return $"{type.Name}.{method.Name} names no test that covers it without the examples";
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
