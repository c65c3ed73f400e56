namespace Sandbox.Kubelet;

/// <summary>
/// How the local kubelet "runs" an image: images whose repository (the name without tag or digest)
/// ends with <paramref name="RepositorySuffix"/> start <paramref name="FileName"/> with
/// <paramref name="Arguments"/> in front of the container's own args (the image's entrypoint).
/// <see cref="Environment"/> is the image's ENV: under the pod's env, with mount paths translated.
/// </summary>
public sealed record ImageCommand(string RepositorySuffix, string FileName, IReadOnlyList<string> Arguments)
{
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>The receiver image: <c>dotnet Greenhouse.Receiver.dll</c> from the repository's build output.</summary>
    public static ImageCommand Receiver(string repositoryRoot, string configuration) => new(
        "greenhouse-receiver",
        "dotnet",
        [Path.Combine(repositoryRoot, "operator", "Greenhouse.Receiver", "bin", configuration, "net10.0", "Greenhouse.Receiver.dll")])
    {
        // The receiver's default ServiceAccount folder, spelled out so that the kubelet maps it to the pod's projected volume.
        Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["Api__Auth__ServiceAccountDirectory"] = ServiceAccountVolume.MountPath },
    };

    /// <summary>Parses <c>SUFFIX=FILE[,ARG...]</c> (command-line form), e.g. <c>my-app=dotnet,/src/App/bin/Debug/net10.0/App.dll</c>.</summary>
    public static bool TryParse(string text, out ImageCommand? command)
    {
        ArgumentNullException.ThrowIfNull(text);
        command = null;
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == text.Length - 1)
        {
            return false;
        }

        var parts = text[(equals + 1)..].Split(',');
        command = new ImageCommand(text[..equals], parts[0], parts[1..]);
        return true;
    }

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
