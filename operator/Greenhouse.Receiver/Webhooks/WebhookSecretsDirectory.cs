using System.Text;
using Greenhouse.Contracts;
using Greenhouse.Receiver.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Webhooks;

/// <summary>
/// Keeps the webhook secrets read from <c>Webhook:SecretsDirectory</c> current without a restart.
/// Kubernetes updates a mounted Secret by swapping the <c>..data</c> symlink, which a file watcher
/// on <c>secret_key</c> alone does not report, so the directory is re-read on any watcher event
/// and on a modest poll as well.
/// </summary>
public sealed partial class WebhookSecretsDirectory : BackgroundService
{
    private readonly ReceiverOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookSecretsDirectory> _logger;
    private readonly SemaphoreSlim _changed = new(0);
    private WebhookSecrets _current;
    private long _generation = 1;
    private long _loadedAtTicks;

    public WebhookSecretsDirectory(ReceiverOptions options, TimeProvider time, ILogger<WebhookSecretsDirectory> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _logger = logger;
        _current = Read() ?? throw new ReceiverConfigurationException(
            $"Webhook:SecretsDirectory '{options.SecretsDirectory}' has no readable {SecretFileNames.WebhookSecret}; write the webhook secret key into it.");
        _loadedAtTicks = time.GetUtcNow().UtcTicks;
    }

    public WebhookSecrets Current => Volatile.Read(ref _current);

    /// <summary>Increases each time different secrets are loaded.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public DateTimeOffset LoadedAt => new(Interlocked.Read(ref _loadedAtTicks), TimeSpan.Zero);

    /// <summary>Secret file content as key bytes; a trailing newline (from <c>echo</c> or an editor) is not part of the key.</summary>
    internal static byte[]? ReadSecret(string path)
    {
        try
        {
            var text = File.ReadAllText(path, Encoding.UTF8).TrimEnd('\r', '\n');
            return text.Length == 0 ? null : Encoding.UTF8.GetBytes(text);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Re-reads the directory now; returns true when the secrets changed.</summary>
    public bool Reload()
    {
        var fresh = Read();
        if (fresh is null)
        {
            LogSecretMissing(_logger, _options.SecretsDirectory);
            return false;
        }
        if (fresh.SameAs(Current))
        {
            return false;
        }
        Volatile.Write(ref _current, fresh);
        Interlocked.Exchange(ref _loadedAtTicks, _time.GetUtcNow().UtcTicks);
        var generation = Interlocked.Increment(ref _generation);
        LogReloaded(_logger, generation, fresh.Previous is not null);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var watcher = new FileSystemWatcher(_options.SecretsDirectory) { IncludeSubdirectories = false };
        FileSystemEventHandler onChange = (_, _) => _changed.Release();
        watcher.Changed += onChange;
        watcher.Created += onChange;
        watcher.Deleted += onChange;
        watcher.Renamed += (_, _) => _changed.Release();
        watcher.EnableRaisingEvents = true;
        // The basic-auth Secret is a mount of its own; the poll covers its changes.

        while (!stoppingToken.IsCancellationRequested)
        {
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var signalled = _changed.WaitAsync(wake.Token);
            var poll = Task.Delay(_options.SecretsPollInterval, _time, wake.Token);
            try
            {
                await Task.WhenAny(signalled, poll).ConfigureAwait(false);
            }
            finally
            {
                await wake.CancelAsync().ConfigureAwait(false);
            }
            if (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            Reload();
        }
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    private WebhookSecrets? Read()
    {
        var current = ReadSecret(Path.Combine(_options.SecretsDirectory, SecretFileNames.WebhookSecret));
        if (current is null)
        {
            return null;
        }
        var previous = ReadSecret(Path.Combine(_options.SecretsDirectory, SecretFileNames.PreviousWebhookSecret));
        BasicAuthCredentials? basic = null;
        if (_options.BasicAuthDirectory is { } dir)
        {
            var user = ReadSecret(Path.Combine(dir, SecretFileNames.BasicAuthUsername));
            var password = ReadSecret(Path.Combine(dir, SecretFileNames.BasicAuthPassword));
            if (user is null || password is null)
            {
                // Never fall back to "no basic auth" because a file vanished mid-swap.
                return null;
            }
            basic = new BasicAuthCredentials(Encoding.UTF8.GetString(user), Encoding.UTF8.GetString(password));
        }
        return new WebhookSecrets(current, previous, basic);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded webhook secrets generation {Generation} (previous secret present: {HasPrevious})")]
    private static partial void LogReloaded(ILogger logger, long generation, bool hasPrevious);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Secrets directory {Directory} has no readable secret right now; keeping the secrets loaded before")]
    private static partial void LogSecretMissing(ILogger logger, string directory);
}
