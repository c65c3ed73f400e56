using System.Runtime.InteropServices;
using Sandbox;

// Subcommands of the sandbox; add new ones to this table.
var commands = new Dictionary<string, (string Usage, Func<string[], CancellationToken, Task<int>> Run)>(StringComparer.Ordinal)
{
    ["apiserver"] = (ApiServerCommand.Usage, ApiServerCommand.RunAsync),
    ["greenhouse"] = (
        "greenhouse [--port N] [--candidates N] [--seed N] [--rate-limit N] [--rate-window-seconds N] [--webhook-url URL --webhook-secret SECRET]   Greenhouse simulator: Harvest v3 + signed webhooks",
        Sandbox.Greenhouse.SimulatorCommand.RunAsync),
    ["kubelet"] = (KubeletCommand.Usage, KubeletCommand.RunAsync),
    ["run"] = (RunCommand.Usage, RunCommand.RunAsync),
};

if (args.Length == 0 || !commands.TryGetValue(args[0], out var command))
{
    await Console.Error.WriteLineAsync("usage: sandbox <command> [options]\ncommands:\n" + string.Join("\n", commands.Values.Select(c => "  " + c.Usage)));
    return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
}

using var stop = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
return await command.Run(args[1..], stop.Token);
