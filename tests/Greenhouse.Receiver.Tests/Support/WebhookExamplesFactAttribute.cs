namespace Greenhouse.Receiver.Tests.Support;

/// <summary>A fact that reads ../shared/greenhouse/webhooks; skipped, with the reason shown, when that folder is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class WebhookExamplesFactAttribute : FactAttribute
{
    public WebhookExamplesFactAttribute()
    {
        if (RepositoryPaths.WebhookExamples is null)
        {
            Skip = RepositoryPaths.NoExamplesReason;
        }
    }
}
