namespace Receiver.Bench;

/// <summary>A load generator on loopback: closed loop (max rate) or paced (fixed rate).</summary>
internal interface ILoadGenerator : IDisposable
{
    /// <summary>Every connection sends its next request as soon as the previous answer arrives.</summary>
    Task<LoadResult> MaxRateAsync(string name, TimeSpan duration);

    /// <summary>Requests are started at <paramref name="rate"/> per second.</summary>
    Task<LoadResult> FixedRateAsync(string name, double rate, TimeSpan duration);
}
