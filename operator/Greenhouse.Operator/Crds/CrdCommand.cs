namespace Greenhouse.Operator.Crds;

/// <summary><c>Greenhouse.Operator crds --output DIR</c>: writes the generated CRD YAML files.</summary>
internal static class CrdCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        string? directory = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--output" && i + 1 < args.Count)
            {
                directory = args[++i];
            }
            else
            {
                error.WriteLine($"Unknown argument '{args[i]}'. Usage: crds --output <directory>");
                return 2;
            }
        }

        if (directory is null)
        {
            error.WriteLine("Missing --output <directory>. Usage: crds --output <directory>");
            return 2;
        }

        Directory.CreateDirectory(directory);
        foreach (var entity in CrdManifests.Entities)
        {
            var path = Path.Combine(directory, CrdManifests.FileName(entity));
            File.WriteAllText(path, CrdManifests.ToYaml(entity));
            output.WriteLine($"wrote {path}");
        }

        return 0;
    }
}
