namespace ControllerRuntime;

public enum InformerEventType
{
    Added,
    Updated,
    Deleted,

    /// <summary>Periodic re-delivery of a cached object that did not change.</summary>
    Resync,
}
