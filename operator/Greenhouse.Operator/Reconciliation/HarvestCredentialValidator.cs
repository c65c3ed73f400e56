using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ControllerRuntime;
using Greenhouse.Harvest;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Checks Harvest credentials with one token request before they are rolled out, and again
/// periodically. Results are remembered per integration and per credentials (a SHA-256 of them,
/// never the secret itself): a changed Secret is checked at once, unchanged credentials only after
/// <c>retry</c> (refused or unreachable) or <c>interval</c> (accepted).
/// </summary>
public sealed class HarvestCredentialValidator
{
    private readonly Func<Uri, long?, string, string, CancellationToken, Task<HarvestTokenCheckResult>> _check;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _retry;
    private readonly ConcurrentDictionary<ObjectKey, (string Fingerprint, HarvestValidation Result)> _results = new();

    public HarvestCredentialValidator(Func<Uri, long?, string, string, CancellationToken, Task<HarvestTokenCheckResult>> check, TimeProvider timeProvider, TimeSpan interval, TimeSpan retry)
    {
        _check = check;
        _time = timeProvider;
        _interval = interval;
        _retry = retry;
    }

    /// <summary>Token requests made (tests).</summary>
    public int Checks => _checks;

    private int _checks;

    public async Task<HarvestValidation> ValidateAsync(ObjectKey key, string secretName, Uri tokenUrl, long? syncUserId, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> clientSecret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tokenUrl);
        var now = _time.GetUtcNow().UtcDateTime;
        var fingerprint = Fingerprint(tokenUrl, syncUserId, clientId, clientSecret);
        if (_results.TryGetValue(key, out var known) && known.Fingerprint == fingerprint && now < known.Result.NextCheckAt)
        {
            return known.Result;
        }

        Interlocked.Increment(ref _checks);
        var result = await _check(tokenUrl, syncUserId, Encoding.UTF8.GetString(clientId.Span), Encoding.UTF8.GetString(clientSecret.Span), cancellationToken).ConfigureAwait(false);
        var checkedAt = _time.GetUtcNow().UtcDateTime;
        var validation = new HarvestValidation(result.Outcome, secretName, result.Message, checkedAt,
            checkedAt + (result.Outcome == HarvestTokenCheckOutcome.Accepted ? _interval : _retry));
        _results[key] = (fingerprint, validation);
        return validation;
    }

    public void Forget(ObjectKey key) => _results.TryRemove(key, out _);

    private static string Fingerprint(Uri tokenUrl, long? syncUserId, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> clientSecret)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{tokenUrl}\n{syncUserId}\n"));
        hash.AppendData(clientId.Span);
        hash.AppendData([0]);
        hash.AppendData(clientSecret.Span);
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
