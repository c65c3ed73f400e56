using Greenhouse.Contracts;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>
/// A folder laid out the way the kubelet mounts a Secret: each key is a symlink
/// <c>secret_key -> ..data/secret_key</c>, <c>..data</c> is a symlink to a timestamped folder,
/// and an update writes a new folder and renames a fresh <c>..data_tmp</c> symlink over <c>..data</c>.
/// </summary>
internal sealed class SecretsMount
{
    private int _version;

    public SecretsMount(string path, string current, string? previous = null)
    {
        Path = path;
        Directory.CreateDirectory(path);
        Update(current, previous);
        foreach (var key in new[] { SecretFileNames.WebhookSecret, SecretFileNames.PreviousWebhookSecret })
        {
            File.CreateSymbolicLink(System.IO.Path.Combine(path, key), System.IO.Path.Combine("..data", key));
        }
    }

    public string Path { get; }

    public void Update(string current, string? previous)
    {
        var old = System.IO.Path.Combine(Path, "..data") is var data && Directory.Exists(data) ? new DirectoryInfo(data).ResolveLinkTarget(false)?.FullName : null;
        var name = $"..2026_11_29_10_00_{++_version:00}.{Random.Shared.Next(1000, 9999)}";
        var folder = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(System.IO.Path.Combine(folder, SecretFileNames.WebhookSecret), current);
        if (previous is not null)
        {
            File.WriteAllText(System.IO.Path.Combine(folder, SecretFileNames.PreviousWebhookSecret), previous);
        }
        var tmp = System.IO.Path.Combine(Path, "..data_tmp");
        File.CreateSymbolicLink(tmp, name);
        // rename(2) of the fresh symlink over ..data, as the kubelet does (File.Move refuses a symlink to a folder).
        using (var mv = System.Diagnostics.Process.Start("mv", ["-T", tmp, System.IO.Path.Combine(Path, "..data")]))
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
