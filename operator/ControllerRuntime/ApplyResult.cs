namespace ControllerRuntime;

/// <summary>The outcome of <see cref="ObjectApplier.ApplyAsync{T}"/>; <see cref="Message"/> is the server's explanation of a conflict.</summary>
public sealed record ApplyResult<T>(ApplyOutcome Outcome, T? Written, string? Message = null)
    where T : class;
