using System.IO.Hashing;
using System.Text;

namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// What the mirror keeps in memory about one candidate, derived from its record: the 64-bit hashes
/// of its lookup keys and the facets the re-engagement query index sorts it by. Stored beside the
/// record (table <c>candidate_index</c>), so start-up rebuilds the indexes without reading records.
/// </summary>
/// <param name="LatestRejection">Unix milliseconds of the candidate's latest rejection, null when none.</param>
public sealed record CandidateIndexEntry(long Id, IReadOnlyList<ulong> KeyHashes, long? LatestRejection, bool NoActiveApplication,
    IReadOnlyList<string> Tags, IReadOnlyList<string> Sources)
{
    public static CandidateIndexEntry Of(CandidateRecord candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return new CandidateIndexEntry(
            candidate.Id,
            [.. candidate.LookupKeys().Select(Hash).Distinct()],
            CandidateQueryIndex.LatestRejection(candidate)?.ToUnixTimeMilliseconds(),
            !candidate.Applications.Any(CandidateQueryIndex.IsActive),
            [.. candidate.Tags.Select(CandidateQueryIndex.Key).Distinct(StringComparer.Ordinal)],
            [.. candidate.Applications.Select(a => a.Source).OfType<string>().Select(CandidateQueryIndex.Key).Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>XXH64 of the key's text form (<c>email:...</c>, <c>url:...</c>); collisions are resolved by checking the record.</summary>
    public static ulong Hash(LookupKey key)
    {
        var text = key.ToString();
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> utf8 = max <= 1024 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(text, utf8);
        return XxHash64.HashToUInt64(utf8[..length]);
    }
}
