using System.Globalization;
using System.Text.RegularExpressions;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>Parses Go duration strings ("90m", "1h30m", "2160h") as used in Kubernetes specs.</summary>
internal static partial class GoDuration
{
    public static TimeSpan Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var matches = Part().Matches(value);
        if (matches.Count == 0 || matches.Sum(m => m.Length) != value.Length)
        {
            throw new FormatException($"'{value}' is not a Go duration such as 15m or 1h30m.");
        }

        double ticks = 0;
        foreach (Match match in matches)
        {
            var number = double.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
            ticks += number * match.Groups["unit"].Value switch
            {
                "ns" => TimeSpan.TicksPerMillisecond / 1_000_000.0,
                "us" or "µs" => TimeSpan.TicksPerMillisecond / 1_000.0,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                _ => TimeSpan.TicksPerHour,
            };
        }

        return TimeSpan.FromTicks((long)ticks);
    }

    [GeneratedRegex(@"(?<number>[0-9]+(\.[0-9]+)?)(?<unit>ns|us|µs|ms|s|m|h)")]
    private static partial Regex Part();
}
