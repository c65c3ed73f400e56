namespace Greenhouse.Receiver.Tests.Support;

/// <summary>
/// A Secret mounted the way the kubelet does it, for any keys: each key is a symlink into
/// <c>..data</c>, which an update swaps atomically to a fresh timestamped folder.
/// </summary>
internal sealed class ProjectedSecret
{
    private int _version;

    public ProjectedSecret(string path, IReadOnlyDictionary<string, string> files)
    {
        Path = path;
        Directory.CreateDirectory(path);
        Update(files);
        foreach (var key in files.Keys)
        {
            File.CreateSymbolicLink(System.IO.Path.Combine(path, key), System.IO.Path.Combine("..data", key));
        }
    }

    public string Path { get; }

    public void Update(IReadOnlyDictionary<string, string> files)
    {
        var data = System.IO.Path.Combine(Path, "..data");
        var old = Directory.Exists(data) ? new DirectoryInfo(data).ResolveLinkTarget(false)?.FullName : null;
        var name = $"..2026_11_29_10_30_{++_version:00}.{Random.Shared.Next(1000, 9999)}";
        Directory.CreateDirectory(System.IO.Path.Combine(Path, name));
        foreach (var (key, value) in files)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, name, key), value);
        }
        var tmp = System.IO.Path.Combine(Path, "..data_tmp");
        File.CreateSymbolicLink(tmp, name);
        using (var mv = System.Diagnostics.Process.Start("mv", ["-T", tmp, data]))
        {
            mv.WaitForExit();
            Assert.Equal(0, mv.ExitCode);
        }
        if (old is not null && Directory.Exists(old))
        {
            Directory.Delete(old, recursive: true);
        }
    }
}
