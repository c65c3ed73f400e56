using System.Collections;

namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// The normalised lookup keys of a candidate, in order: its e-mails, then the profile URLs of its
/// websites and social media addresses (entries that do not normalise are left out). A struct with a
/// struct enumerator, so a <c>foreach</c> allocates nothing: index entries derive the keys of every
/// record written and published, several times per event.
/// </summary>
public readonly struct CandidateLookupKeys(CandidateRecord candidate) : IEnumerable<LookupKey>
{
    public Enumerator GetEnumerator() => new(candidate);

    IEnumerator<LookupKey> IEnumerable<LookupKey>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(CandidateRecord candidate) : IEnumerator<LookupKey>
    {
        // 0: e-mails, 1: websites, 2: social media addresses, 3: done.
        private int _list;
        private int _index = -1;

        public LookupKey Current { get; private set; }

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            while (_list < 3)
            {
                var entries = _list switch
                {
                    0 => candidate.EmailAddresses,
                    1 => candidate.WebsiteAddresses,
                    _ => candidate.SocialMediaAddresses,
                };
                if (++_index >= entries.Count)
                {
                    (_list, _index) = (_list + 1, -1);
                    continue;
                }
                var value = entries[_index].Value;
                if ((_list == 0 ? LookupKeyNormalizer.Email(value) : LookupKeyNormalizer.ProfileUrl(value)) is { } key)
                {
                    Current = key;
                    return true;
                }
            }
            return false;
        }

        public void Reset() => (_list, _index) = (0, -1);

        public readonly void Dispose()
        {
        }
    }
}
