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
        // Indexed loops (the keys' enumerator is a struct) and exact arrays: this runs for every record
        // written and published, several times per event.
        var hashes = new List<ulong>(candidate.EmailAddresses.Count + candidate.WebsiteAddresses.Count + candidate.SocialMediaAddresses.Count);
        HashSet<ulong>? seenHashes = null;
        foreach (var key in candidate.LookupKeys())
        {
            AddDistinct(hashes, ref seenHashes, Hash(key), EqualityComparer<ulong>.Default);
        }
        var noActive = true;
        List<string>? sources = null;
        HashSet<string>? seenSources = null;
        var applications = candidate.Applications;
        for (var i = 0; i < applications.Count; i++)
        {
            var application = applications[i];
            noActive &= !CandidateQueryIndex.IsActive(application);
            if (application.Source is { } source)
            {
                AddDistinct(sources ??= [], ref seenSources, CandidateQueryIndex.Key(source), StringComparer.Ordinal);
            }
        }
        List<string>? tags = null;
        HashSet<string>? seenTags = null;
        for (var i = 0; i < candidate.Tags.Count; i++)
        {
            AddDistinct(tags ??= new List<string>(candidate.Tags.Count), ref seenTags, CandidateQueryIndex.Key(candidate.Tags[i]), StringComparer.Ordinal);
        }
        return new CandidateIndexEntry(candidate.Id, ToArray(hashes), CandidateQueryIndex.LatestRejection(candidate)?.ToUnixTimeMilliseconds(),
            noActive, ToArray(tags), ToArray(sources));
    }

    private static T[] ToArray<T>(List<T>? list) => list is null || list.Count == 0 ? [] : list.ToArray();

    /// <summary>Adds <paramref name="item"/> unless the list has it: a scan while the list is short (the usual case), a set once it is not (a body may list thousands).</summary>
    private static void AddDistinct<T>(List<T> list, ref HashSet<T>? seen, T item, IEqualityComparer<T> comparer)
    {
        if (seen is null && list.Count < 16)
        {
            foreach (var existing in list)
            {
                if (comparer.Equals(existing, item))
                {
                    return;
                }
            }
            list.Add(item);
            return;
        }
        seen ??= new HashSet<T>(list, comparer);
        if (seen.Add(item))
        {
            list.Add(item);
        }
    }

    /// <summary>XXH64 of the key's text form (<c>email:...</c>, <c>url:...</c>) in UTF-8; collisions are resolved by checking the record.</summary>
    public static ulong Hash(LookupKey key)
    {
        // The same bytes as the UTF-8 of key.ToString(), without building that string.
        var prefix = key.Kind == LookupKeyKind.Email ? "email:"u8 : "url:"u8;
        var max = prefix.Length + Encoding.UTF8.GetMaxByteCount(key.Value.Length);
        Span<byte> utf8 = max <= 1024 ? stackalloc byte[max] : new byte[max];
        prefix.CopyTo(utf8);
        var length = prefix.Length + Encoding.UTF8.GetBytes(key.Value, utf8[prefix.Length..]);
        return XxHash64.HashToUInt64(utf8[..length]);
    }
}
