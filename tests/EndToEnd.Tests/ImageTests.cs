using System.Text.RegularExpressions;
using System.Xml.Linq;
using Greenhouse.Testing;

namespace EndToEnd.Tests;

/// <summary>
/// The images' recipes (no Docker engine here, so the recipe is what is checked): non-root chiseled
/// runtime, every project the image needs copied in, the build arguments `make image` and CI pass,
/// and image names that come from the chart.
/// </summary>
public sealed partial class ImageTests
{
    [Theory]
    [InlineData("Greenhouse.Operator")]
    [InlineData("Greenhouse.Receiver")]
    public void Dockerfile_publishes_in_the_sdk_and_runs_as_uid_65532_on_the_chiseled_runtime(string project)
    {
        var dockerfile = File.ReadAllText(RepositoryPaths.Combine("operator", project, "Dockerfile"));
        var stages = Regex.Split(dockerfile, @"^FROM ", RegexOptions.Multiline).Skip(1).ToList();

        Assert.Equal(2, stages.Count);
        Assert.StartsWith("--platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:", stages[0], StringComparison.Ordinal);
        Assert.Matches(@"dotnet publish operator/" + Regex.Escape(project) + "/" + Regex.Escape(project) + @"\.csproj [^\n]*-a \$TARGETARCH", stages[0]);
        Assert.Contains("-p:Version=$VERSION", stages[0], StringComparison.Ordinal);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:\$\{DOTNET_VERSION\}-[a-z]+-chiseled\n", stages[1]);
        Assert.Contains("\nUSER 65532:65532\n", stages[1], StringComparison.Ordinal);
        Assert.DoesNotContain("RUN ", stages[1], StringComparison.Ordinal); // chiseled: no shell to run anything
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{AssemblyName(project)}.dll\"]", stages[1], StringComparison.Ordinal);
        Assert.Matches(@"ARG TARGETARCH\n", stages[0]);
        Assert.Matches(@"ARG VERSION=", stages[0]);
    }

    [Theory]
    [InlineData("Greenhouse.Operator")]
    [InlineData("Greenhouse.Receiver")]
    public void Dockerfile_copies_every_project_the_image_builds_from(string project)
    {
        var dockerfile = File.ReadAllText(RepositoryPaths.Combine("operator", project, "Dockerfile"));
        var copied = CopiedProject().Matches(dockerfile).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        var needed = ProjectClosure(project);

        Assert.Equal(needed.Order(StringComparer.Ordinal), copied.Order(StringComparer.Ordinal));
        foreach (var name in needed)
        {
            Assert.Contains($"COPY operator/{name}/{name}.csproj operator/{name}/", dockerfile, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Make_image_builds_both_images_under_the_chart_names_and_version()
    {
        var printed = await ExternalTool.RunAsync("make", ["-s", "-C", RepositoryPaths.Root, "print-images"]);
        Assert.True(printed.ExitCode == 0, printed.ToString());
        var values = await File.ReadAllTextAsync(RepositoryPaths.Combine("charts", "greenhouse-operator", "values.yaml"));
        var appVersion = Regex.Match(await File.ReadAllTextAsync(RepositoryPaths.Combine("charts", "greenhouse-operator", "Chart.yaml")), "appVersion: \"?([^\"\\n]+)").Groups[1].Value;
        var operatorRepository = Regex.Match(values, @"^image:\s*\n\s+repository: (\S+)", RegexOptions.Multiline).Groups[1].Value;
        var receiverRepository = Regex.Match(values, @"^receiver:\s*\n\s+image:\s*\n\s+repository: (\S+)", RegexOptions.Multiline).Groups[1].Value;

        Assert.Equal($"operator={operatorRepository}:{appVersion}\nreceiver={receiverRepository}:{appVersion}\n", printed.StandardOutput);

        var dryRun = await ExternalTool.RunAsync("make", ["-s", "-n", "-C", RepositoryPaths.Root, "image", "image-push"]);
        Assert.Contains($"-f operator/Greenhouse.Operator/Dockerfile --build-arg VERSION={appVersion} -t {operatorRepository}:{appVersion}", dryRun.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"-f operator/Greenhouse.Receiver/Dockerfile --build-arg VERSION={appVersion} -t {receiverRepository}:{appVersion}", dryRun.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--platform linux/amd64,linux/arm64", dryRun.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_workflow_pushes_multi_arch_images_on_a_version_tag()
    {
        var workflow = File.ReadAllText(RepositoryPaths.Combine(".github", "workflows", "images.yaml"));

        Assert.Contains("tags: [\"v*.*.*\"]", workflow, StringComparison.Ordinal);
        Assert.Contains("make image-push VERSION=${{ steps.version.outputs.version }} PLATFORMS=linux/amd64,linux/arm64", workflow, StringComparison.Ordinal);
        Assert.Contains("docker/setup-qemu-action", workflow, StringComparison.Ordinal);
    }

    private static string AssemblyName(string project)
    {
        var csproj = XDocument.Load(RepositoryPaths.Combine("operator", project, project + ".csproj"));
        return csproj.Descendants("AssemblyName").Select(e => e.Value).FirstOrDefault() ?? project;
    }

    private static HashSet<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name))
            {
                continue;
            }

            var csproj = XDocument.Load(RepositoryPaths.Combine("operator", name, name + ".csproj"));
            foreach (var reference in csproj.Descendants("ProjectReference").Select(e => e.Attribute("Include")!.Value))
            {
                pending.Push(Path.GetFileNameWithoutExtension(reference));
            }
        }

        return seen;
    }

    [GeneratedRegex(@"^COPY operator/([A-Za-z.]+)/ operator/\1/$", RegexOptions.Multiline)]
    private static partial Regex CopiedProject();
}
