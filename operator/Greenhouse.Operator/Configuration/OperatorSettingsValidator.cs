using Microsoft.Extensions.Options;

namespace Greenhouse.Operator.Configuration;

/// <summary>Checks the rules data annotations cannot express (nested sections, relations between values).</summary>
internal sealed class OperatorSettingsValidator : IValidateOptions<OperatorSettings>
{
    public ValidateOptionsResult Validate(string? name, OperatorSettings options)
    {
        var failures = new List<string>();
        var election = options.LeaderElection;
        if (election.Enabled && election.RenewDeadline >= election.LeaseDuration)
        {
            failures.Add("Operator:LeaderElection:RenewDeadline must be shorter than Operator:LeaderElection:LeaseDuration, or two replicas could lead at once.");
        }

        if (election.Enabled && election.RetryPeriod >= election.RenewDeadline)
        {
            failures.Add("Operator:LeaderElection:RetryPeriod must be shorter than Operator:LeaderElection:RenewDeadline.");
        }

        if (election.Enabled && string.IsNullOrWhiteSpace(election.LeaseName))
        {
            failures.Add("Operator:LeaderElection:LeaseName is empty; set it or disable leader election.");
        }

        failures.AddRange(options.WatchNamespaces.Where(string.IsNullOrWhiteSpace).Select(_ => "Operator:WatchNamespaces contains an empty entry; list namespace names or leave it empty to watch all."));
        failures.AddRange(options.ScrapePodLabels.Where(l => l.IndexOf('=', StringComparison.Ordinal) < 1).Select(l => $"Operator:ScrapePodLabels entry \"{l}\" is not key=value."));
        failures.AddRange(options.ReceiverImagePullSecrets.Where(string.IsNullOrWhiteSpace).Select(_ => "Operator:ReceiverImagePullSecrets contains an empty entry; list Secret names."));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
