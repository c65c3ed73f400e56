namespace Sandbox.KubeApi;

/// <summary>Query options of a write request, plus the warnings it produced.</summary>
internal sealed class WriteOptions
{
    public bool DryRun { get; init; }

    /// <summary>Strict, Warn (default) or Ignore.</summary>
    public string FieldValidation { get; init; } = "Warn";

    public string? FieldManager { get; init; }

    public bool? Force { get; init; }

    public List<string> Warnings { get; } = [];

    /// <summary>Set by the built-in controllers: no fault injection, no request-level checks meant for clients.</summary>
    public bool Internal { get; init; }

    public static WriteOptions ForController => new() { Internal = true, FieldValidation = "Ignore" };
}
