namespace Receiver.Bench;

/// <summary>One phase's figures; latencies in milliseconds.</summary>
internal sealed record LoadResult(string Name, long Requests, long Failures, double Seconds, double P50, double P99, double P999, double Max)
{
    /// <summary>CPU time of the bench process (the servers; the load generator is wrk, a process of its own) per request, in microseconds; NaN when not measured.</summary>
    public double ServerCpuMicroseconds { get; init; } = double.NaN;

    public double Rate => Requests / Seconds;

    public static LoadResult FromSamples(string name, long failures, double seconds, double[] latenciesMs) =>
        new(name, latenciesMs.Length, failures, seconds, Percentile(latenciesMs, 50), Percentile(latenciesMs, 99), Percentile(latenciesMs, 99.9),
            latenciesMs.Length == 0 ? double.NaN : latenciesMs.Max());

    public static double Percentile(double[] samples, double p)
    {
        if (samples.Length == 0)
        {
            return double.NaN;
        }
        var sorted = samples.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
    }

    public override string ToString() =>
        $"{Name,-38} {Rate,9:F0} req/s   p50 {P50,6:F2} ms   p99 {P99,6:F2} ms   p99.9 {P999,6:F2} ms   max {Max,7:F2} ms   failures {Failures}{(double.IsNaN(ServerCpuMicroseconds) ? "" : $"   server CPU {ServerCpuMicroseconds,5:F1} us/req")}";
}
