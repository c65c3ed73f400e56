namespace ControllerRuntime;

/// <summary>What an apply did: nothing (the object already matched), wrote it, or found the name taken by someone else's object.</summary>
public enum ApplyOutcome
{
    Unchanged,
    Applied,
    NameConflict,
}
