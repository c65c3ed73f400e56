using System.Globalization;

namespace Sandbox.Greenhouse;

/// <summary>
/// <c>sandbox greenhouse [--port N] [--candidates N] [--seed N] [--rate-limit N] [--rate-window-seconds N]
/// [--webhook-url URL --webhook-secret S]</c>: runs the simulator until cancelled and prints how to reach it.
/// </summary>
public static class SimulatorCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new GreenhouseSimulatorOptions { Port = 0 };
        string? webhookUrl = null;
        string? webhookSecret = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--port" when int.TryParse(value, CultureInfo.InvariantCulture, out var port):
                    options.Port = port;
                    break;
                case "--candidates" when int.TryParse(value, CultureInfo.InvariantCulture, out var count) && count >= 0:
                    options.CandidateCount = count;
                    break;
                case "--seed" when int.TryParse(value, CultureInfo.InvariantCulture, out var seed):
                    options.Seed = seed;
                    break;
                case "--rate-limit" when int.TryParse(value, CultureInfo.InvariantCulture, out var limit) && limit > 0:
                    options.RateLimit = limit;
                    break;
                case "--rate-window-seconds" when double.TryParse(value, CultureInfo.InvariantCulture, out var seconds) && seconds > 0:
                    options.RateLimitWindow = TimeSpan.FromSeconds(seconds);
                    break;
                case "--webhook-url" when Uri.TryCreate(value, UriKind.Absolute, out _):
                    webhookUrl = value;
                    break;
                case "--webhook-secret" when !string.IsNullOrEmpty(value):
                    webhookSecret = value;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"greenhouse: unknown or invalid argument '{args[i]}'. Usage: greenhouse [--port N] [--candidates N] [--seed N] [--rate-limit N] [--rate-window-seconds N] [--webhook-url URL --webhook-secret SECRET]").ConfigureAwait(false);
                    return 2;
            }

            i++;
        }

        if ((webhookUrl is null) != (webhookSecret is null))
        {
            await Console.Error.WriteLineAsync("greenhouse: --webhook-url and --webhook-secret go together.").ConfigureAwait(false);
            return 2;
        }

        try
        {
            await RunSimulatorAsync(options, webhookUrl, webhookSecret, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: stop cleanly, even while still starting.
        }

        return 0;
    }

    private static async Task RunSimulatorAsync(GreenhouseSimulatorOptions options, string? webhookUrl, string? webhookSecret, CancellationToken cancellationToken)
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var client = simulator.DefaultClient;
        Console.WriteLine($"Greenhouse simulator listening on {simulator.BaseUrl}");
        Console.WriteLine($"  Harvest:BaseUrl   {simulator.HarvestBaseUrl}");
        Console.WriteLine($"  Harvest:TokenUrl  {simulator.TokenUrl}");
        Console.WriteLine($"  client_id         {client.ClientId}");
        Console.WriteLine($"  client_secret     {client.ClientSecret}   (sandbox credentials, not a real secret)");
        Console.WriteLine($"  Harvest:SyncUserId {simulator.SyncUserId}");
        Console.WriteLine($"  candidates        {options.CandidateCount} (seed {options.Seed}); rate limit {options.RateLimit} per {options.RateLimitWindow.TotalSeconds} s");
        if (webhookUrl is not null && webhookSecret is not null)
        {
            var enabled = await simulator.RegisterWebhookAsync(new WebhookRegistration(new Uri(webhookUrl), webhookSecret), cancellationToken).ConfigureAwait(false);
            Console.WriteLine(enabled ? $"  webhook           {webhookUrl} (ping answered 200)" : $"  webhook           {webhookUrl} DISABLED: the ping did not get 200");
        }

        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }
}
