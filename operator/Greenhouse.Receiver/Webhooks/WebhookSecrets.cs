namespace Greenhouse.Receiver.Webhooks;

/// <summary>One consistent snapshot of the secrets directory.</summary>
public sealed record WebhookSecrets(byte[] Current, byte[]? Previous, BasicAuthCredentials? BasicAuth)
{
    /// <summary>
    /// Which of these secrets' slots the key that matched <paramref name="slot"/> of <paramref name="verifiedWith"/>
    /// is now (None when it is no longer loaded). A reload between a request's snapshot and its count turns
    /// the old current key into the previous one: counted in its old slot, a delivery Greenhouse signed
    /// with the old key would look like the new key's adoption, and the old key would be dropped too early.
    /// </summary>
    public Observability.SecretSlotMatch SlotOf(Observability.SecretSlotMatch slot, WebhookSecrets verifiedWith)
    {
        ArgumentNullException.ThrowIfNull(verifiedWith);
        if (ReferenceEquals(this, verifiedWith) || slot == Observability.SecretSlotMatch.None)
        {
            return slot;
        }
        var key = slot == Observability.SecretSlotMatch.Current ? verifiedWith.Current : verifiedWith.Previous;
        return key is null ? Observability.SecretSlotMatch.None
            : key.AsSpan().SequenceEqual(Current) ? Observability.SecretSlotMatch.Current
            : Previous is not null && key.AsSpan().SequenceEqual(Previous) ? Observability.SecretSlotMatch.Previous
            : Observability.SecretSlotMatch.None;
    }

    public bool SameAs(WebhookSecrets other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Current.AsSpan().SequenceEqual(other.Current)
            && (Previous ?? []).AsSpan().SequenceEqual(other.Previous ?? [])
            && Equals(BasicAuth, other.BasicAuth);
    }
}
