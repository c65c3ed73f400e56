namespace Sandbox.Greenhouse;

/// <summary>What a data change does on the Greenhouse side.</summary>
public enum WebhookSendMode
{
    /// <summary>Send the event to every enabled webhook that wants it.</summary>
    Send,

    /// <summary>Record the event but lose it (a delivery that never arrives; a sweep must repair it).</summary>
    Drop,

    /// <summary>Change the data silently.</summary>
    None,
}
