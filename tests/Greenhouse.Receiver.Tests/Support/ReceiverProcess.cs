using System.Diagnostics;
using System.Text;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>The built receiver started as a real process (<c>dotnet Greenhouse.Receiver.dll</c>) on 127.0.0.1 free ports.</summary>
internal sealed class ReceiverProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ReceiverProcess(Process process, int publicPort, int httpPort)
    {
        _process = process;
        Public = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{publicPort}") };
        Api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public HttpClient Public { get; }
    public HttpClient Api { get; }
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the receiver and waits until it listens (or has exited, e.g. on a configuration error).</summary>
    public static async Task<ReceiverProcess> StartAsync(string secretsDirectory, string dataDirectory, params string[] extraArgs)
    {
        int publicPort = FreePort.Next(), grpcPort = FreePort.Next(), httpPort = FreePort.Next();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            ReceiverBuild.Dll,
            $"--urls=http://127.0.0.1:{publicPort}",
            "--Api:BindAddress=127.0.0.1",
            $"--Api:GrpcPort={grpcPort}",
            $"--Api:HttpPort={httpPort}",
            $"--Webhook:SecretsDirectory={secretsDirectory}",
            $"--Storage:DataDirectory={dataDirectory}",
        }.Concat(extraArgs.Any(a => a.StartsWith("--Api:Auth:Mode=", StringComparison.Ordinal)) ? extraArgs : [.. extraArgs, "--Api:Auth:Mode=None"]))
        {
            start.ArgumentList.Add(arg);
        }
        var receiver = new ReceiverProcess(Process.Start(start)!, publicPort, httpPort);
        await Eventually.TrueAsync(async () => receiver.HasExited || await receiver.RespondsAsync(), "the receiver process listens", TimeSpan.FromSeconds(30));
        return receiver;
    }

    public Task<int> ExitCodeAsync() => _process.WaitForExitAsync().ContinueWith(_ => _process.ExitCode, TaskScheduler.Default);

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crashed pod.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        Public.Dispose();
        Api.Dispose();
    }

    private async Task<bool> RespondsAsync()
    {
        try
        {
            using var response = await Public.GetAsync("/healthz");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
