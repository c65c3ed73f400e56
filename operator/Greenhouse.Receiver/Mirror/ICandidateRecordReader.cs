namespace Greenhouse.Receiver.Mirror;

/// <summary>Where the mirror reads candidate records from (the database); safe to call from any thread.</summary>
public interface ICandidateRecordReader
{
    CandidateRecord? Read(long id);

    /// <summary>The stored records of <paramref name="ids"/> (those that exist), in one read where the store can.</summary>
    IReadOnlyList<CandidateRecord> ReadMany(IReadOnlyCollection<long> ids) => [.. ids.Select(Read).OfType<CandidateRecord>()];

    /// <summary>Candidates with id greater than <paramref name="afterId"/>, in id order, updated at or after <paramref name="updatedSince"/> when set.</summary>
    IReadOnlyList<CandidateRecord> ReadPage(long afterId, int size, DateTimeOffset? updatedSince);
}
