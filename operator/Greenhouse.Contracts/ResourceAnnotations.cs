namespace Greenhouse.Contracts;

/// <summary>Annotations with a meaning to the operator.</summary>
public static class ResourceAnnotations
{
    /// <summary>On a GreenhouseIntegration: changing its value rotates the webhook secret at once.</summary>
    public const string Rotate = "greenhouse.resource.io/rotate";

    /// <summary>On the receiver pod template: hash of the settings whose change needs a rollout.</summary>
    public const string ConfigHash = "greenhouse.resource.io/config-hash";

    /// <summary>On every object the operator owns: hash of the configuration it last applied (server-side apply),
    /// so an unchanged object is never written again.</summary>
    public const string AppliedHash = "greenhouse.resource.io/applied-hash";
}
