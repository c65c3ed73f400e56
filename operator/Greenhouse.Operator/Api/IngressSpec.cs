using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record IngressSpec
{
    [Pattern(ResourceNames.DnsSubdomainPattern)]
    [MaxLength(253)]
    [Description("IngressClass to use; the cluster default when absent.")]
    public string? ClassName { get; init; }

    [Pattern(ResourceNames.DnsSubdomainPattern)]
    [MaxLength(253)]
    [Description("Secret with the TLS certificate for the endpoint's host; TLS is terminated by the ingress controller.")]
    public string? TlsSecretName { get; init; }

    [Description("Annotations for the Ingress (for example rate limits of the ingress controller).")]
    public IDictionary<string, string>? Annotations { get; init; }
}
