using System.Reflection;

namespace Sandbox;

/// <summary>Where the sandbox finds the repository's build outputs and keeps its state.</summary>
internal static class SandboxLayout
{
    /// <summary>The folder holding Operator.sln above this executable (else the current directory).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The build configuration of this executable; the operator and receiver are taken from the same one.</summary>
    public static string Configuration { get; } =
        typeof(SandboxLayout).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public static string BuildOutput(string project, string assembly) =>
        Path.Combine(RepositoryRoot, "operator", project, "bin", Configuration, "net10.0", assembly);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Operator.sln")))
            {
                return directory.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
