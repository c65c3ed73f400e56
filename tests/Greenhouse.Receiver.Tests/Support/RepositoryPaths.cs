namespace Greenhouse.Receiver.Tests.Support;

internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The shared Greenhouse example payloads, or null when the folder is absent.</summary>
    public static string? WebhookExamples
    {
        get
        {
            var path = Path.GetFullPath(Path.Combine(Root, "..", "shared", "greenhouse", "webhooks"));
            return Directory.Exists(path) && Directory.EnumerateFiles(path, "*.json").Any() ? path : null;
        }
    }

    public const string NoExamplesReason = "../shared/greenhouse/webhooks is absent (it sits beside the repository on developer machines and CI)";

    /// <summary>The receiver's own build output (same configuration as this test assembly).</summary>
    public static string ReceiverDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var dll = Path.Combine(Root, "operator", "Greenhouse.Receiver", "bin", configuration, "net10.0", "Greenhouse.Receiver.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("build the receiver first", dll);
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Operator.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Operator.sln not found above " + AppContext.BaseDirectory);
    }
}
