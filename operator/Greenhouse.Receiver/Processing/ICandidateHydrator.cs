namespace Greenhouse.Receiver.Processing;

/// <summary>
/// Fetches the authoritative record of a candidate after a webhook touched it (Harvest, issue 3).
/// Webhook-only mode registers none. Throwing makes the event retry with backoff;
/// <see cref="PoisonEventException"/> sends it to the dead letters.
/// </summary>
public interface ICandidateHydrator
{
    Task HydrateAsync(long candidateId, CancellationToken cancellationToken);
}
