using Xunit;

namespace Greenhouse.Testing;

/// <summary>A fact that reads Greenhouse's example payloads from ../shared; skipped, with the reason shown, when they are absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class WebhookExamplesFactAttribute : FactAttribute
{
    public WebhookExamplesFactAttribute()
    {
        if (RepositoryPaths.WebhookExamples is null)
        {
            Skip = RepositoryPaths.NoWebhookExamplesReason;
        }
    }
}
