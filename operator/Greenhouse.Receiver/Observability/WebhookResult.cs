namespace Greenhouse.Receiver.Observability;

/// <summary>The <c>result</c> label of greenhouse_webhooks_received_total.</summary>
public enum WebhookResult
{
    Accepted,
    Duplicate,
    Ignored,
    RejectedSignature,
    RejectedMalformed,
    RejectedTooLarge,
    Unavailable,
    /// <summary>A ping whose signature or Basic auth did not verify: answered 200 (it changes nothing), stored nowhere.</summary>
    IgnoredUnverifiedPing,
}
