using Greenhouse.Receiver.Configuration;
using Microsoft.Extensions.Configuration;

namespace Greenhouse.Receiver.Tests;

public sealed class ReceiverOptionsLoaderTests : IDisposable
{
    private readonly string _secrets = Directory.CreateTempSubdirectory("ghr-options-").FullName;

    public ReceiverOptionsLoaderTests() => File.WriteAllText(Path.Combine(_secrets, "secret_key"), "s\n");

    public void Dispose() => Directory.Delete(_secrets, recursive: true);

    private ReceiverOptions Load(params (string Key, string? Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Webhook:SecretsDirectory"] = _secrets,
            ["Storage:DataDirectory"] = Path.Combine(_secrets, "data"),
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }
        return ReceiverOptionsLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
    }

    [Fact]
    public void The_service_account_token_and_ca_come_from_the_service_account_directory_setting()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_secrets, "kube-api-access")).FullName;
        File.WriteAllText(Path.Combine(folder, "token"), "t");
        File.WriteAllText(Path.Combine(folder, "ca.crt"), "c");

        var options = Load(("Api:Auth:ServiceAccountDirectory", folder));

        Assert.Equal(Path.Combine(folder, "token"), options.ApiAuth.TokenFile);
        Assert.Equal(Path.Combine(folder, "ca.crt"), options.ApiAuth.CaFile);
    }

    [Fact]
    public void A_service_account_directory_without_files_leaves_token_and_ca_unset()
    {
        var options = Load(("Api:Auth:ServiceAccountDirectory", Path.Combine(_secrets, "absent")));

        Assert.Null(options.ApiAuth.TokenFile);
        Assert.Null(options.ApiAuth.CaFile);
    }

    [Fact]
    public void Defaults_follow_the_design()
    {
        var options = Load();
        Assert.Equal("/webhooks/greenhouse", options.WebhookPath);
        Assert.Equal(1024 * 1024, options.MaxBodyBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), options.BodyReadTimeout);
        Assert.Equal(1024, options.MaxConnections);
        Assert.Equal(64L * 1024 * 1024, options.MaxUnverifiedBytes);
        Assert.Equal(TimeSpan.FromDays(14), options.DeadLetterRetention);
        Assert.Equal(TimeSpan.FromDays(7), options.Retention);
        Assert.Equal(8081, options.GrpcPort);
        Assert.Equal(8082, options.HttpPort);
        Assert.Equal(8080, Assert.Single(options.PublicUrls).Port);
        Assert.Empty(options.Events);
    }

    [Theory]
    [InlineData("Webhook:SecretsDirectory", null, "Webhook:SecretsDirectory is not set")]
    [InlineData("Webhook:SecretsDirectory", "/nonexistent/secrets", "Webhook:SecretsDirectory '/nonexistent/secrets' does not exist")]
    [InlineData("Storage:DataDirectory", "", "Storage:DataDirectory is not set")]
    [InlineData("Harvest:Enabled", "maybe", "Harvest:Enabled 'maybe' is not true or false")]
    [InlineData("Webhook:Events", "update_candidate,not_an_action", "Webhook:Events contains 'not_an_action'")]
    [InlineData("Api:GrpcPort", "70000", "Api:GrpcPort '70000' is not a TCP port")]
    [InlineData("Api:HttpPort", "8081", "Api:GrpcPort and Api:HttpPort are the same port")]
    [InlineData("Api:BindAddress", "everywhere", "Api:BindAddress 'everywhere' is not an IP address")]
    [InlineData("Storage:Retention", "soon", "Storage:Retention 'soon' is not a positive duration")]
    [InlineData("urls", "https://0.0.0.0:8443", "--urls entry 'https://0.0.0.0:8443' is invalid")]
    [InlineData("Webhook:Path", "hooks", "Webhook:Path 'hooks' is invalid")]
    public void Invalid_setting_stops_start_up_with_one_line_naming_it(string key, string? value, string expected)
    {
        var error = Assert.Throws<ReceiverConfigurationException>(() => Load((key, value)));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Empty_secret_key_file_is_a_configuration_error()
    {
        File.WriteAllText(Path.Combine(_secrets, "secret_key"), "\n");
        var error = Assert.Throws<ReceiverConfigurationException>(() => Load());
        Assert.Contains("no non-empty secret_key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Event_filter_accepts_a_comma_separated_value_or_a_list()
    {
        Assert.Equal(["candidate_stage_change", "update_candidate"], Load(("Webhook:Events", "update_candidate, candidate_stage_change")).Events.Order());
        Assert.Equal(["job_created"], Load(("Webhook:Events:0", "job_created")).Events);
    }

    [Fact]
    public void Harvest_mode_reports_every_bad_setting_on_a_line_of_its_own()
    {
        var error = Assert.Throws<ReceiverConfigurationException>(() => Load(
            ("Harvest:Enabled", "true"), ("Harvest:SyncUserId", "admin"), ("Harvest:TokenUrl", "ftp://auth"), ("Sync:ResyncInterval", "soon")));
        var lines = error.Message.Split(Environment.NewLine);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("Harvest:CredentialsDirectory is not set", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("Harvest:SyncUserId 'admin' is invalid", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("Harvest:TokenUrl 'ftp://auth' is not an https URL", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("Sync:ResyncInterval 'soon' is not a positive duration", lines[3], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://harvest.example/v3", false)]
    [InlineData("http://10.1.2.3/v3", false)]
    [InlineData("http://127.0.0.1:7470/v3", true)]
    [InlineData("http://localhost:7470/v3", true)]
    [InlineData("https://harvest.greenhouse.io/v3", true)]
    public void Harvest_urls_are_https_except_for_loopback_hosts(string url, bool accepted)
    {
        File.WriteAllText(Path.Combine(_secrets, "client_id"), "id\n");
        File.WriteAllText(Path.Combine(_secrets, "client_secret"), "secret\n");
        (string, string?)[] settings = [("Harvest:Enabled", "true"), ("Harvest:CredentialsDirectory", _secrets), ("Harvest:SyncUserId", "4080"), ("Harvest:BaseUrl", url)];
        if (accepted)
        {
            Assert.Equal(new Uri(url), Load(settings).Harvest!.BaseUrl);
        }
        else
        {
            Assert.Contains("is not an https URL", Assert.Throws<ReceiverConfigurationException>(() => Load(settings)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Harvest_mode_defaults_follow_the_design()
    {
        File.WriteAllText(Path.Combine(_secrets, "client_id"), "id\n");
        File.WriteAllText(Path.Combine(_secrets, "client_secret"), "secret\n");
        var harvest = Load(("Harvest:Enabled", "true"), ("Harvest:CredentialsDirectory", _secrets), ("Harvest:SyncUserId", "4080")).Harvest!;
        Assert.Equal(TimeSpan.FromMinutes(15), harvest.ResyncInterval);
        Assert.Equal(TimeSpan.FromHours(24), harvest.FullResyncInterval);
        Assert.Equal(4080, harvest.SyncUserId);
        Assert.Equal("https://harvest.greenhouse.io/v3", harvest.BaseUrl.ToString().TrimEnd('/'));
        Assert.Null(Load().Harvest);
    }

    [Theory]
    [InlineData("Greenhouse:SsoDomain", "evil.example.com", "is not a Greenhouse host")]
    [InlineData("Greenhouse:SsoDomain", "https://acme.greenhouse.io/", "is not a Greenhouse host")]
    [InlineData("Greenhouse:MaildropEmail", "not-an-address", "is not an e-mail address")]
    public void Bad_account_settings_stop_start_up_naming_the_setting(string key, string value, string reason)
    {
        var error = Assert.Throws<ReceiverConfigurationException>(() => Load((key, value)));
        Assert.StartsWith($"{key} '", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Account_settings_are_read_with_the_names_the_operator_writes()
    {
        var options = Load((Greenhouse.Contracts.GreenhouseAccountSettings.SsoDomain, "App2.greenhouse.io"), (Greenhouse.Contracts.GreenhouseAccountSettings.MaildropEmail, "drop@example.com"));
        Assert.Equal(("app2.greenhouse.io", "drop@example.com"), (options.SsoDomain, options.MaildropEmail));
        Assert.Equal("Greenhouse__SsoDomain", Greenhouse.Contracts.GreenhouseAccountSettings.EnvironmentVariable(Greenhouse.Contracts.GreenhouseAccountSettings.SsoDomain));
    }
}
