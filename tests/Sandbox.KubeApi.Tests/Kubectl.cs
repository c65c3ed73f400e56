using System.Diagnostics;
using System.Text;
using Greenhouse.Testing;

namespace Sandbox.KubeApi.Tests;

/// <summary>Runs the real kubectl against an emulator with a private kubeconfig and discovery cache.</summary>
public sealed class Kubectl : IDisposable
{
    private readonly string _dir;
    private readonly string _kubeconfig;

    private Kubectl(string dir, string kubeconfig)
    {
        _dir = dir;
        _kubeconfig = kubeconfig;
    }

    public string Directory => _dir;

    public static async Task<Kubectl> ForAsync(KubeApiServer server)
    {
        var dir = Path.Combine(Path.GetTempPath(), "kubectl-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        var kubeconfig = Path.Combine(dir, "kubeconfig");
        await server.WriteKubeconfigAsync(kubeconfig);
        return new Kubectl(dir, kubeconfig);
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    public async Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts kubectl without waiting (for get -w and delete that blocks).</summary>
    public Process Start(params string[] args)
    {
        var info = new ProcessStartInfo(ExternalTool.Kubectl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add("--kubeconfig");
        info.ArgumentList.Add(_kubeconfig);
        info.ArgumentList.Add("--cache-dir");
        info.ArgumentList.Add(Path.Combine(_dir, "cache"));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["HOME"] = _dir;
        return Process.Start(info) ?? throw new InvalidOperationException("kubectl did not start");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A still-exiting kubectl may hold the cache; the temp folder is cleaned by the OS later.
        }
    }
}
