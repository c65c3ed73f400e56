namespace Greenhouse.Testing;

/// <summary>Locates the repository (the folder holding Operator.sln) and the shared reference data beside it.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary><c>../shared</c> next to the repository: reference data that exists on developer machines and in CI, not on a user's clone.</summary>
    public static string Shared { get; } = Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>Greenhouse's documented webhook payloads in <c>../shared/greenhouse/webhooks</c>, or null when absent.</summary>
    public static string? WebhookExamples { get; } =
        Directory.Exists(Path.Combine(Shared, "greenhouse", "webhooks")) && Directory.EnumerateFiles(Path.Combine(Shared, "greenhouse", "webhooks"), "*.json").Any()
            ? Path.Combine(Shared, "greenhouse", "webhooks")
            : null;

    /// <summary>
    /// Greenhouse's example payloads are Greenhouse's documentation, kept byte for byte beside the repository (on
    /// developer machines and in CI) and never copied into it, so a user's clone does not have them.
    /// </summary>
    public const string NoWebhookExamplesReason =
        "Greenhouse's own example payloads are not in this clone: ../shared/greenhouse/webhooks/*.json (beside the repository, " +
        "never copied into it) is missing. These tests replay Greenhouse's documented bodies byte for byte; ingest, merges and " +
        "anonymisation are still tested with the project's own bodies in the documented shapes. Put the folder beside the clone to run them.";

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Operator.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Operator.sln not found above " + AppContext.BaseDirectory);
    }
}
