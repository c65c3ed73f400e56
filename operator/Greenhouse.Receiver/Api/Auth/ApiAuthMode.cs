namespace Greenhouse.Receiver.Api.Auth;

/// <summary><c>Api:Auth:Mode</c>: how callers of the gRPC and JSON APIs are authenticated.</summary>
public enum ApiAuthMode
{
    /// <summary>Kubernetes ServiceAccount tokens (JWTs) verified offline against the cluster issuer's keys (the default).</summary>
    KubernetesServiceAccount,

    /// <summary>No authentication at all: local development only (a warning at start).</summary>
    None,
}
