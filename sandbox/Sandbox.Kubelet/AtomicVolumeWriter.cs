using System.Globalization;
using System.Security.Cryptography;

namespace Sandbox.Kubelet;

/// <summary>
/// Writes a Secret or ConfigMap volume with the kubelet's atomic-writer layout: the files live in a
/// timestamped folder <c>..2026_11_29_09_40_00.000000001</c>, <c>..data</c> is a symlink to it and
/// every top-level name is a symlink through <c>..data</c>. An update writes a new folder and renames
/// a fresh symlink over <c>..data</c>, so a reader sees the old set or the new set, never a mix.
/// </summary>
internal sealed class AtomicVolumeWriter(string directory, TimeProvider time)
{
    private const string DataLink = "..data";
    private static long sequence;
    private string? writtenHash;

    public string Directory { get; } = directory;

    /// <summary>Writes the files when they differ from the last write; returns whether it wrote.</summary>
    public bool Write(IReadOnlyList<ProjectedFile> files)
    {
        var hash = Hash(files);
        if (hash == writtenHash)
        {
            return false;
        }

        System.IO.Directory.CreateDirectory(Directory);
        var previous = CurrentTarget();
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyy_MM_dd_HH_mm_ss", CultureInfo.InvariantCulture);
        var folderName = $"..{stamp}.{Interlocked.Increment(ref sequence):D9}";
        var folder = Path.Combine(Directory, folderName);
        System.IO.Directory.CreateDirectory(folder);
        foreach (var file in files)
        {
            var path = Path.Combine(folder, file.Path);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, file.Content);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, file.Mode);
            }
        }

        var temporaryLink = Path.Combine(Directory, "..data_tmp");
        File.Delete(temporaryLink);
        File.CreateSymbolicLink(temporaryLink, folderName);
        Posix.Rename(temporaryLink, Path.Combine(Directory, DataLink));

        var names = files.Select(f => f.Path.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var link = Path.Combine(Directory, name);
            if (new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, Path.Combine(DataLink, name));
            }
        }

        foreach (var entry in new DirectoryInfo(Directory).EnumerateFileSystemInfos())
        {
            if (!entry.Name.StartsWith("..", StringComparison.Ordinal) && !names.Contains(entry.Name))
            {
                entry.Delete();
            }
        }

        if (previous is not null && previous != folderName)
        {
            System.IO.Directory.Delete(Path.Combine(Directory, previous), recursive: true);
        }

        writtenHash = hash;
        return true;
    }

    private string? CurrentTarget() => new FileInfo(Path.Combine(Directory, DataLink)).LinkTarget;

    private static string Hash(IReadOnlyList<ProjectedFile> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{file.Path}\0{(int)file.Mode}\0{file.Content.Length}\0"));
            sha.AppendData(file.Content);
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }
}
