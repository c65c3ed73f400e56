namespace Sandbox.Kubelet.Tests;

/// <summary>A fact that drives the real kubectl: skipped, with the reason shown, when kubectl is not on PATH.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Path is null)
        {
            Skip = "kubectl is not on PATH (CI installs it with apt-get install kubectl)";
        }
    }

    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(directory => System.IO.Path.Combine(directory, "kubectl"))
        .FirstOrDefault(File.Exists);
}
