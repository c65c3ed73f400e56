namespace Greenhouse.Receiver.Webhooks;

/// <summary>One consistent snapshot of the secrets directory.</summary>
public sealed record WebhookSecrets(byte[] Current, byte[]? Previous, BasicAuthCredentials? BasicAuth)
{
    public bool SameAs(WebhookSecrets other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Current.AsSpan().SequenceEqual(other.Current)
            && (Previous ?? []).AsSpan().SequenceEqual(other.Previous ?? [])
            && Equals(BasicAuth, other.BasicAuth);
    }
}
