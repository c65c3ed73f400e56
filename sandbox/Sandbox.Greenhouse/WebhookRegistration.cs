namespace Sandbox.Greenhouse;

/// <summary>A webhook as an admin configures it in Greenhouse. <paramref name="Events"/> null means every event.</summary>
public sealed record WebhookRegistration(
    Uri Endpoint,
    string SecretKey,
    IReadOnlyCollection<string>? Events = null,
    string? BasicAuthUsername = null,
    string? BasicAuthPassword = null,
    string Name = "Sandbox")
{
    public override string ToString() => $"WebhookRegistration {{ Name = {Name}, Endpoint = {Endpoint} }}";
}
