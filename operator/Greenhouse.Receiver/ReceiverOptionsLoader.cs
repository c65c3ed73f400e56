using System.Globalization;
using System.Net;
using Greenhouse.Contracts;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Api.Auth;
using Greenhouse.Receiver.Webhooks;
using Microsoft.Extensions.Configuration;

namespace Greenhouse.Receiver;

/// <summary>Reads and validates the receiver's configuration; the first problem stops start-up with one clear line.</summary>
public static class ReceiverOptionsLoader
{
    public static ReceiverOptions Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var harvest = GetBool(configuration, "Harvest:Enabled", false) ? LoadHarvest(configuration) : null;

        var path = configuration["Webhook:Path"] ?? "/webhooks/greenhouse";
        if (!path.StartsWith('/') || path.Contains('?', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal))
        {
            throw new ReceiverConfigurationException($"Webhook:Path '{path}' is invalid; set it to an absolute URL path such as /webhooks/greenhouse.");
        }

        var secrets = configuration["Webhook:SecretsDirectory"];
        if (string.IsNullOrWhiteSpace(secrets))
        {
            throw new ReceiverConfigurationException(
                $"Webhook:SecretsDirectory is not set; set it to the folder holding the {SecretFileNames.WebhookSecret} file (e.g. --Webhook:SecretsDirectory=/etc/greenhouse/webhook).");
        }
        if (!Directory.Exists(secrets))
        {
            throw new ReceiverConfigurationException(
                $"Webhook:SecretsDirectory '{secrets}' does not exist; create it with a {SecretFileNames.WebhookSecret} file or point the setting at the mounted webhook Secret.");
        }
        if (WebhookSecretsDirectory.ReadSecret(Path.Combine(secrets, SecretFileNames.WebhookSecret)) is null)
        {
            throw new ReceiverConfigurationException(
                $"Webhook:SecretsDirectory '{secrets}' has no non-empty {SecretFileNames.WebhookSecret} file; write the webhook secret key into it.");
        }

        var basicAuth = configuration["Webhook:BasicAuthDirectory"];
        if (string.IsNullOrWhiteSpace(basicAuth))
        {
            basicAuth = null;
        }
        else if (!File.Exists(Path.Combine(basicAuth, SecretFileNames.BasicAuthUsername)) || !File.Exists(Path.Combine(basicAuth, SecretFileNames.BasicAuthPassword)))
        {
            throw new ReceiverConfigurationException(
                $"Webhook:BasicAuthDirectory '{basicAuth}' must contain the files {SecretFileNames.BasicAuthUsername} and {SecretFileNames.BasicAuthPassword}; fix the mount or remove the setting.");
        }

        var events = ReadList(configuration, "Webhook:Events");
        foreach (var action in events)
        {
            if (!WebhookActions.IsDocumented(action))
            {
                throw new ReceiverConfigurationException(
                    $"Webhook:Events contains '{action}', which is not a Greenhouse webhook action; use names such as update_candidate or candidate_stage_change.");
            }
        }

        var data = configuration["Storage:DataDirectory"];
        if (string.IsNullOrWhiteSpace(data))
        {
            throw new ReceiverConfigurationException("Storage:DataDirectory is not set; set it to a writable folder for the inbox database (e.g. --Storage:DataDirectory=/var/lib/greenhouse).");
        }

        var bindText = configuration["Api:BindAddress"] ?? "0.0.0.0";
        if (!IPAddress.TryParse(bindText, out var bind))
        {
            throw new ReceiverConfigurationException($"Api:BindAddress '{bindText}' is not an IP address; set it to e.g. 0.0.0.0 or 127.0.0.1.");
        }

        var grpcPort = GetPort(configuration, "Api:GrpcPort", ReceiverPorts.Grpc);
        var httpPort = GetPort(configuration, "Api:HttpPort", ReceiverPorts.Http);
        if (grpcPort == httpPort)
        {
            throw new ReceiverConfigurationException("Api:GrpcPort and Api:HttpPort are the same port; give each its own port.");
        }

        var urls = ReadUrls(configuration["urls"] ?? $"http://0.0.0.0:{ReceiverPorts.Webhook}");
        foreach (var url in urls)
        {
            if (url.Port == grpcPort || url.Port == httpPort)
            {
                throw new ReceiverConfigurationException($"--urls port {url.Port} is also Api:GrpcPort or Api:HttpPort; the public listener needs a port of its own.");
            }
        }

        var ssoDomain = configuration[GreenhouseAccountSettings.SsoDomain] is { Length: > 0 } domain ? domain.Trim().ToLowerInvariant() : null;
        if (ssoDomain is not null && (Uri.CheckHostName(ssoDomain) != UriHostNameType.Dns || !ssoDomain.EndsWith(".greenhouse.io", StringComparison.Ordinal)))
        {
            throw new ReceiverConfigurationException(
                $"{GreenhouseAccountSettings.SsoDomain} '{ssoDomain}' is not a Greenhouse host; set it to the host of your Greenhouse web app, e.g. app.greenhouse.io or acme.greenhouse.io.");
        }
        var maildrop = configuration[GreenhouseAccountSettings.MaildropEmail] is { Length: > 0 } mail ? mail.Trim() : null;
        if (maildrop is not null && LookupKeyNormalizer.Email(maildrop) is null)
        {
            throw new ReceiverConfigurationException(
                $"{GreenhouseAccountSettings.MaildropEmail} '{maildrop}' is not an e-mail address; copy the maildrop address from Configure > Dev Center in Greenhouse.");
        }
        // The largest real Greenhouse payload we have seen is 7.5 KB (new_candidate_application);
        // 1 MiB leaves room for candidates with very many applications or custom fields.
        var maxBody = GetLong(configuration, "Webhook:MaxBodyBytes", 1024 * 1024, 1);
        var maxUnverified = GetLong(configuration, "Webhook:MaxUnverifiedBytes", 64L * 1024 * 1024, 1);
        if (maxUnverified < maxBody)
        {
            throw new ReceiverConfigurationException(
                $"Webhook:MaxUnverifiedBytes ({maxUnverified}) is smaller than Webhook:MaxBodyBytes ({maxBody}); no body of the largest allowed size could be read. Raise it.");
        }

        return new ReceiverOptions
        {
            SsoDomain = ssoDomain,
            MaildropEmail = maildrop,
            WebhookPath = path,
            SecretsDirectory = secrets,
            BasicAuthDirectory = basicAuth,
            Events = events.ToHashSet(StringComparer.Ordinal),
            MaxBodyBytes = maxBody,
            BodyReadTimeout = GetDuration(configuration, "Webhook:BodyReadTimeout", TimeSpan.FromSeconds(10)),
            MaxConnections = (int)Math.Min(int.MaxValue, GetLong(configuration, "Webhook:MaxConnections", 1024, 1)),
            MaxUnverifiedBytes = maxUnverified,
            SecretsPollInterval = GetDuration(configuration, "Webhook:SecretsPollInterval", TimeSpan.FromSeconds(1)),
            DataDirectory = data,
            Retention = GetDuration(configuration, "Storage:Retention", TimeSpan.FromDays(7)),
            DeadLetterRetention = GetDuration(configuration, "Storage:DeadLetterRetention", TimeSpan.FromDays(14)),
            CommitTimeout = GetDuration(configuration, "Storage:CommitTimeout", TimeSpan.FromSeconds(2)),
            MaxAttempts = (int)GetLong(configuration, "Processing:MaxAttempts", 8, 1),
            RetryBaseDelay = GetDuration(configuration, "Processing:RetryBaseDelay", TimeSpan.FromSeconds(1)),
            RetryMaxDelay = GetDuration(configuration, "Processing:RetryMaxDelay", TimeSpan.FromMinutes(5)),
            BindAddress = bind,
            GrpcPort = grpcPort,
            HttpPort = httpPort,
            PublicUrls = urls,
            ApiAuth = LoadApiAuth(configuration),
            Harvest = harvest,
        };
    }

    /// <summary>Checks every Harvest setting and reports all bad ones together, one line each.</summary>
    private static HarvestSyncOptions LoadHarvest(IConfiguration configuration)
    {
        var problems = new List<string>();
        T Check<T>(Func<T> read, T fallback)
        {
            try
            {
                return read();
            }
            catch (ReceiverConfigurationException e)
            {
                problems.Add(e.Message);
                return fallback;
            }
        }

        var credentials = configuration["Harvest:CredentialsDirectory"];
        if (string.IsNullOrWhiteSpace(credentials))
        {
            problems.Add($"Harvest:CredentialsDirectory is not set; set it to the folder holding the {SecretFileNames.ClientId} and {SecretFileNames.ClientSecret} files.");
        }
        else if (!Directory.Exists(credentials))
        {
            problems.Add($"Harvest:CredentialsDirectory '{credentials}' does not exist; create it with {SecretFileNames.ClientId} and {SecretFileNames.ClientSecret} files or point the setting at the mounted Harvest Secret.");
        }
        else if (WebhookSecretsDirectory.ReadSecret(Path.Combine(credentials, SecretFileNames.ClientId)) is null
            || WebhookSecretsDirectory.ReadSecret(Path.Combine(credentials, SecretFileNames.ClientSecret)) is null)
        {
            problems.Add($"Harvest:CredentialsDirectory '{credentials}' needs non-empty {SecretFileNames.ClientId} and {SecretFileNames.ClientSecret} files; write the Harvest v3 OAuth client credentials into them.");
        }

        var syncUserText = configuration["Harvest:SyncUserId"];
        long syncUser = 0;
        if (string.IsNullOrWhiteSpace(syncUserText))
        {
            problems.Add("Harvest:SyncUserId is not set; set it to the Greenhouse user id of the Site Admin the integration acts as (the token's sub).");
        }
        else if (!long.TryParse(syncUserText, NumberStyles.Integer, CultureInfo.InvariantCulture, out syncUser) || syncUser < 1)
        {
            problems.Add($"Harvest:SyncUserId '{syncUserText}' is invalid; use the numeric Greenhouse user id of the sync user.");
        }

        var baseUrl = Check(() => GetUrl(configuration, "Harvest:BaseUrl", "https://harvest.greenhouse.io/v3"), new Uri("http://invalid"));
        var tokenUrl = Check(() => GetUrl(configuration, "Harvest:TokenUrl", "https://auth.greenhouse.io/token"), new Uri("http://invalid"));
        var resync = Check(() => GetDuration(configuration, "Sync:ResyncInterval", TimeSpan.FromMinutes(15)), TimeSpan.Zero);
        var full = Check(() => GetDuration(configuration, "Sync:FullResyncInterval", TimeSpan.FromHours(24)), TimeSpan.Zero);
        var overlap = Check(() => GetDuration(configuration, "Sync:Overlap", TimeSpan.FromMinutes(2)), TimeSpan.Zero);
        var debounce = Check(() => GetDuration(configuration, "Sync:HydrationDebounce", TimeSpan.FromMilliseconds(250)), TimeSpan.Zero);
        var maxDelay = Check(() => GetDuration(configuration, "Sync:HydrationMaxDelay", TimeSpan.FromSeconds(2)), TimeSpan.Zero);
        if (resync > TimeSpan.Zero && full > TimeSpan.Zero && full < resync)
        {
            problems.Add($"Sync:FullResyncInterval ({full}) is shorter than Sync:ResyncInterval ({resync}); make the full sweep the rarer one.");
        }
        if (debounce > TimeSpan.Zero && maxDelay > TimeSpan.Zero && maxDelay < debounce)
        {
            problems.Add($"Sync:HydrationMaxDelay ({maxDelay}) is shorter than Sync:HydrationDebounce ({debounce}); raise the maximum delay.");
        }
        if (problems.Count > 0)
        {
            throw new ReceiverConfigurationException(string.Join(Environment.NewLine, problems));
        }
        return new HarvestSyncOptions
        {
            CredentialsDirectory = credentials!,
            SyncUserId = syncUser,
            BaseUrl = baseUrl,
            TokenUrl = tokenUrl,
            ResyncInterval = resync,
            FullResyncInterval = full,
            Overlap = overlap,
            HydrationDebounce = debounce,
            HydrationMaxDelay = maxDelay,
        };
    }

    private const string DefaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    private static ApiAuthOptions LoadApiAuth(IConfiguration configuration)
    {
        var modeText = configuration["Api:Auth:Mode"];
        var mode = ApiAuthMode.KubernetesServiceAccount;
        if (!string.IsNullOrWhiteSpace(modeText) && (!Enum.TryParse(modeText, ignoreCase: true, out mode) || !Enum.IsDefined(mode)))
        {
            throw new ReceiverConfigurationException($"Api:Auth:Mode '{modeText}' is invalid; use KubernetesServiceAccount (the default) or None (local development only).");
        }
        // In a pod the API server is where KUBERNETES_SERVICE_HOST/PORT say, as for any in-cluster client.
        var host = configuration["KUBERNETES_SERVICE_HOST"];
        var port = configuration["KUBERNETES_SERVICE_PORT"] ?? "443";
        var defaultServer = string.IsNullOrWhiteSpace(host) ? "https://kubernetes.default.svc" : $"https://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}";
        var apiServer = GetUrl(configuration, "Api:Auth:ApiServer", defaultServer);
        // Where the kubelet projects the pod's token and CA; a setting so that a kubelet without mount
        // namespaces (the sandbox's) can point the receiver at its local folder.
        var serviceAccountDirectory = configuration["Api:Auth:ServiceAccountDirectory"] is { Length: > 0 } dir ? dir : DefaultServiceAccountDirectory;
        var caFile = configuration["Api:Auth:CaFile"] is { Length: > 0 } ca ? ca
            : File.Exists(Path.Combine(serviceAccountDirectory, "ca.crt")) ? Path.Combine(serviceAccountDirectory, "ca.crt") : null;
        if (mode != ApiAuthMode.None && caFile is not null && !File.Exists(caFile))
        {
            throw new ReceiverConfigurationException($"Api:Auth:CaFile '{caFile}' does not exist; point it at the API server's CA bundle or remove the setting.");
        }
        var tokenFile = configuration["Api:Auth:TokenFile"] is { Length: > 0 } token ? token
            : File.Exists(Path.Combine(serviceAccountDirectory, "token")) ? Path.Combine(serviceAccountDirectory, "token") : null;

        var clients = new List<ApiClient>();
        foreach (var entry in configuration.GetSection("Api:Clients").GetChildren())
        {
            var ns = entry["ServiceAccount:Namespace"];
            var name = entry["ServiceAccount:Name"];
            if (string.IsNullOrWhiteSpace(ns) || string.IsNullOrWhiteSpace(name))
            {
                throw new ReceiverConfigurationException($"Api:Clients:{entry.Key} needs ServiceAccount:Namespace and ServiceAccount:Name.");
            }
            var scopes = new HashSet<ApiScope>();
            foreach (var scope in ReadList(configuration, $"Api:Clients:{entry.Key}:Scopes"))
            {
                if (!Enum.TryParse<ApiScope>(scope, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                {
                    throw new ReceiverConfigurationException($"Api:Clients:{entry.Key}:Scopes contains '{scope}'; use read, watch or writeback.");
                }
                scopes.Add(parsed);
            }
            clients.Add(new ApiClient(ns.Trim(), name.Trim(), scopes));
        }
        return new ApiAuthOptions
        {
            Mode = mode,
            Audience = configuration["Api:Auth:Audience"] is { Length: > 0 } audience ? audience : "greenhouse-receiver",
            ApiServer = apiServer,
            CaFile = caFile,
            TokenFile = tokenFile,
            MaxTokenLifetime = GetDuration(configuration, "Api:Auth:MaxTokenLifetime", TimeSpan.FromHours(24)),
            Clients = clients,
        };
    }

    private static Uri GetUrl(IConfiguration configuration, string key, string fallback)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            text = fallback;
        }
        // Credentials and tokens travel to these URLs: plain http only to a loopback address (a local simulator).
        return Uri.TryCreate(text, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && (uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var ip) && IPAddress.IsLoopback(ip)))))
            ? uri
            : throw new ReceiverConfigurationException($"{key} '{text}' is not an https URL (plain http only for loopback addresses); use e.g. {fallback}.");
    }

    private static List<string> ReadList(IConfiguration configuration, string key)
    {
        var section = configuration.GetSection(key);
        var values = section.GetChildren().Select(c => c.Value).ToList();
        if (values.Count == 0 && section.Value is { } single)
        {
            // A ConfigMap or env var carries the list as one comma-separated value.
            values = [.. single.Split(',')];
        }
        return values.Select(v => v?.Trim()).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToList();
    }

    private static List<Uri> ReadUrls(string value)
    {
        var result = new List<Uri>();
        foreach (var part in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel accepts wildcard hosts (*, +) that Uri does not; they mean "any address".
            var normalised = part.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(normalised, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                throw new ReceiverConfigurationException($"--urls entry '{part}' is invalid; use http://<address>:<port> such as http://0.0.0.0:{ReceiverPorts.Webhook} (TLS ends at the Ingress).");
            }
            result.Add(uri);
        }
        if (result.Count == 0)
        {
            throw new ReceiverConfigurationException($"--urls is empty; set it to e.g. http://0.0.0.0:{ReceiverPorts.Webhook}.");
        }
        return result;
    }

    private static bool GetBool(IConfiguration configuration, string key, bool fallback)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        return bool.TryParse(text, out var value)
            ? value
            : throw new ReceiverConfigurationException($"{key} '{text}' is not true or false; set it to true or false.");
    }

    private static int GetPort(IConfiguration configuration, string key, int fallback)
    {
        var value = GetLong(configuration, key, fallback, 1);
        return value <= 65535 ? (int)value : throw new ReceiverConfigurationException($"{key} '{value}' is not a TCP port; use a number from 1 to 65535.");
    }

    private static long GetLong(IConfiguration configuration, string key, long fallback, long minimum)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw new ReceiverConfigurationException($"{key} '{text}' is invalid; use a whole number of at least {minimum}.");
    }

    private static TimeSpan GetDuration(IConfiguration configuration, string key, TimeSpan fallback)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) && value > TimeSpan.Zero
            ? value
            : throw new ReceiverConfigurationException($"{key} '{text}' is not a positive duration; use the form hh:mm:ss or d.hh:mm:ss (e.g. 7.00:00:00).");
    }
}
