namespace Sandbox.Greenhouse;

public enum WebhookDeliveryState
{
    /// <summary>Waiting for its first attempt or a retry.</summary>
    Pending,

    /// <summary>Answered 200.</summary>
    Delivered,

    /// <summary>Every attempt failed (or the ping failed, disabling the webhook).</summary>
    Failed,

    /// <summary>Lost on purpose; never sent, never retried.</summary>
    Dropped,
}
