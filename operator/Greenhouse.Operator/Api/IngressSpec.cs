using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record IngressSpec
{
    [Description("IngressClass to use; the cluster default when absent.")]
    public string? ClassName { get; init; }

    [Description("Secret with the TLS certificate for the endpoint's host; TLS is terminated by the ingress controller.")]
    public string? TlsSecretName { get; init; }

    [Description("Annotations for the Ingress (for example rate limits of the ingress controller).")]
    public IDictionary<string, string>? Annotations { get; init; }
}
