using Greenhouse.Testing;

namespace Sandbox.Greenhouse.Tests;

public sealed class WebhookExamplesCoverageTests
{
    /// <summary>A test skipped on a clone without Greenhouse's examples names tests that still run there; they must exist.</summary>
    [Fact]
    public void Each_example_replay_names_tests_that_cover_it_without_the_examples() =>
        Assert.Empty(WebhookExamplesFactAttribute.CheckCoverage(typeof(WebhookExamplesCoverageTests).Assembly));
}
