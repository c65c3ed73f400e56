namespace Receiver.Bench;

internal sealed record LoadResult(string Name, int Requests, int Failures, double Seconds, double[] LatenciesMs)
{
    public double Rate => Requests / Seconds;

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }
        var sorted = LatenciesMs.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
    }

    public override string ToString() =>
        $"{Name,-34} {Rate,9:F0} req/s   p50 {Percentile(50),7:F2} ms   p99 {Percentile(99),7:F2} ms   failures {Failures}";
}
