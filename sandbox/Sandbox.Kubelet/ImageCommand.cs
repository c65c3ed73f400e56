namespace Sandbox.Kubelet;

/// <summary>
/// How the local kubelet "runs" an image: images whose repository (the name without tag or digest)
/// ends with <paramref name="RepositorySuffix"/> start <paramref name="FileName"/> with
/// <paramref name="Arguments"/> in front of the container's own args (the image's entrypoint).
/// </summary>
public sealed record ImageCommand(string RepositorySuffix, string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>The receiver image: <c>dotnet Greenhouse.Receiver.dll</c> from the repository's build output.</summary>
    public static ImageCommand Receiver(string repositoryRoot, string configuration) => new(
        "greenhouse-receiver",
        "dotnet",
        [Path.Combine(repositoryRoot, "operator", "Greenhouse.Receiver", "bin", configuration, "net10.0", "Greenhouse.Receiver.dll")]);

    public bool Matches(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Repository(image).EndsWith(RepositorySuffix, StringComparison.Ordinal);
    }

    /// <summary>The files this command needs that may be missing (an unbuilt assembly), for a clear error.</summary>
    internal string? MissingFile() =>
        Arguments.FirstOrDefault(a => a.EndsWith(".dll", StringComparison.Ordinal) && !File.Exists(a));

    internal static string Repository(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        var name = at >= 0 ? image[..at] : image;
        var slash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        return colon > slash ? name[..colon] : name;
    }
}
