using Greenhouse.Operator.Configuration;
using Microsoft.Extensions.Configuration;

namespace Greenhouse.Operator.Tests;

public sealed class OperatorSettingsTests
{
    [Fact]
    public void Valid_settings_bind_from_environment_style_keys()
    {
        var (settings, failures) = OperatorSettingsLoader.Load(Configuration(new()
        {
            ["Operator:ReceiverImage"] = "img:1",
            ["Operator:WatchNamespaces:0"] = "a",
            ["Operator:WatchNamespaces:1"] = "b",
            ["Operator:Concurrency"] = "8",
            ["Operator:LeaderElection:Enabled"] = "false",
        }));

        Assert.Empty(failures);
        Assert.Equal(["a", "b"], settings!.WatchNamespaces);
        Assert.Equal(8, settings.Concurrency);
        Assert.False(settings.LeaderElection.Enabled);
    }

    [Theory]
    [InlineData("Operator:Concurrency", "0", "Operator:Concurrency")]
    [InlineData("Operator:LeaderElection:RenewDeadline", "00:00:30", "RenewDeadline must be shorter than Operator:LeaderElection:LeaseDuration")]
    [InlineData("Operator:MetricsPort", "70000", "Operator:MetricsPort")]
    [InlineData("Operator:ScrapePodLabels:0", "prometheus", "Operator:ScrapePodLabels entry \"prometheus\" is not key=value")]
    public void Invalid_settings_are_reported_naming_the_setting(string key, string value, string expected)
    {
        var (settings, failures) = OperatorSettingsLoader.Load(Configuration(new() { ["Operator:ReceiverImage"] = "img:1", [key] = value }));

        Assert.Null(settings);
        Assert.Contains(failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_receiver_image_is_reported_with_the_fix()
    {
        var (_, failures) = OperatorSettingsLoader.Load(Configuration([]));

        Assert.Contains(failures, f => f.StartsWith("Operator:ReceiverImage", StringComparison.Ordinal) && f.Contains("Operator__ReceiverImage", StringComparison.Ordinal));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
