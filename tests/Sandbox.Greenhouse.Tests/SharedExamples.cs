namespace Sandbox.Greenhouse.Tests;

/// <summary>Locates Greenhouse's example webhook payloads in ../shared/greenhouse/webhooks beside the repository.</summary>
internal static class SharedExamples
{
    public const string AbsentReason = "../shared/greenhouse/webhooks is absent (it sits beside the repository on developer machines and CI)";

    public static string? Directory { get; } = Find();

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Operator.sln")))
            {
                var examples = Path.Combine(dir.FullName, "..", "shared", "greenhouse", "webhooks");
                return System.IO.Directory.Exists(examples) ? Path.GetFullPath(examples) : null;
            }
        }

        return null;
    }
}

/// <summary>A fact that needs the shared example payloads; skipped, with the reason shown, when they are absent.</summary>
internal sealed class SharedExamplesFactAttribute : FactAttribute
{
    public SharedExamplesFactAttribute()
    {
        if (SharedExamples.Directory is null)
        {
            Skip = SharedExamples.AbsentReason;
        }
    }
}
