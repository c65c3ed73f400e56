using Greenhouse.Testing;

namespace Greenhouse.Receiver.Tests.Support;

internal static class ReceiverBuild
{
    /// <summary>The receiver's own build output (same configuration as this test assembly).</summary>
    public static string Dll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var dll = RepositoryPaths.Combine("operator", "Greenhouse.Receiver", "bin", configuration, "net10.0", "Greenhouse.Receiver.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("build the receiver first", dll);
        }
    }
}
