using System.Text;
using Greenhouse.Contracts;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Webhooks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Sync;

/// <summary>
/// The Harvest client credentials from <c>Harvest:CredentialsDirectory</c>, kept current without a
/// restart the same way as the webhook secrets (watcher plus poll, so a <c>..data</c> symlink swap
/// is seen). The Harvest client reads <see cref="Current"/> on every token request.
/// </summary>
public sealed partial class HarvestCredentialsDirectory : BackgroundService, IHarvestCredentialSource
{
    private readonly string _directory;
    private readonly TimeSpan _poll;
    private readonly ILogger<HarvestCredentialsDirectory> _logger;
    private readonly SemaphoreSlim _changed = new(0);
    private readonly TimeProvider _time;
    private HarvestCredentials? _current;
    private long _generation = 1;

    public HarvestCredentialsDirectory(ReceiverOptions options, TimeProvider time, ILogger<HarvestCredentialsDirectory> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _directory = options.Harvest?.CredentialsDirectory ?? throw new InvalidOperationException("Harvest is not enabled.");
        _poll = options.SecretsPollInterval;
        _time = time;
        _logger = logger;
        _current = Read();
    }

    public HarvestCredentials? Current => Volatile.Read(ref _current);

    /// <summary>Increases each time different credentials are loaded.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Re-reads the directory now; returns true when the credentials changed.</summary>
    public bool Reload()
    {
        var fresh = Read();
        if (fresh is null)
        {
            LogMissing(_logger, _directory);
            return false;
        }
        if (fresh == Current)
        {
            return false;
        }
        Volatile.Write(ref _current, fresh);
        var generation = Interlocked.Increment(ref _generation);
        var hasPrevious = fresh.PreviousClientSecret is not null;
        LogReloaded(_logger, generation, fresh.ClientId, hasPrevious);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var watcher = new FileSystemWatcher(_directory) { IncludeSubdirectories = false };
        FileSystemEventHandler onChange = (_, _) => _changed.Release();
        watcher.Changed += onChange;
        watcher.Created += onChange;
        watcher.Deleted += onChange;
        watcher.Renamed += (_, _) => _changed.Release();
        watcher.EnableRaisingEvents = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            try
            {
                await Task.WhenAny(_changed.WaitAsync(wake.Token), Task.Delay(_poll, _time, wake.Token)).ConfigureAwait(false);
            }
            finally
            {
                await wake.CancelAsync().ConfigureAwait(false);
            }
            if (!stoppingToken.IsCancellationRequested)
            {
                Reload();
            }
        }
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    private HarvestCredentials? Read()
    {
        var id = WebhookSecretsDirectory.ReadSecret(Path.Combine(_directory, SecretFileNames.ClientId));
        var secret = WebhookSecretsDirectory.ReadSecret(Path.Combine(_directory, SecretFileNames.ClientSecret));
        if (id is null || secret is null)
        {
            // Never drop to "no credentials" because a file vanished mid-swap.
            return null;
        }
        var previous = WebhookSecretsDirectory.ReadSecret(Path.Combine(_directory, SecretFileNames.PreviousClientSecret));
        return new HarvestCredentials(Encoding.UTF8.GetString(id), Encoding.UTF8.GetString(secret), previous is null ? null : Encoding.UTF8.GetString(previous));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded Harvest credentials generation {Generation} for client {ClientId} (previous secret present: {HasPrevious})")]
    private static partial void LogReloaded(ILogger logger, long generation, string clientId, bool hasPrevious);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Harvest credentials directory {Directory} has no readable client_id/client_secret right now; keeping the credentials loaded before")]
    private static partial void LogMissing(ILogger logger, string directory);
}
