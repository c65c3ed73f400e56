using System.ComponentModel.DataAnnotations;

namespace Greenhouse.Operator.Configuration;

/// <summary>Binds and validates the <c>Operator</c> section once, before anything else starts.</summary>
internal static class OperatorSettingsLoader
{
    /// <summary>The settings, or the failures as sentences naming the setting and the fix.</summary>
    public static (OperatorSettings? Settings, IReadOnlyList<string> Failures) Load(IConfiguration configuration)
    {
        OperatorSettings settings;
        try
        {
            settings = configuration.GetSection(OperatorSettings.SectionName).Get<OperatorSettings>() ?? new OperatorSettings();
        }
        catch (InvalidOperationException ex)
        {
            return (null, [$"Operator settings could not be read: {ex.Message}"]);
        }

        var failures = new List<string>();
        foreach (var target in new object[] { settings, settings.LeaderElection })
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(target, new ValidationContext(target), results, validateAllProperties: true);
            var prefix = target is LeaderElectionSettings ? "Operator:LeaderElection:" : "Operator:";
            failures.AddRange(results.Select(r => $"{prefix}{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
        }

        var rules = new OperatorSettingsValidator().Validate(null, settings);
        if (rules.Failed)
        {
            failures.AddRange(rules.Failures);
        }

        return (failures.Count == 0 ? settings : null, failures);
    }
}
