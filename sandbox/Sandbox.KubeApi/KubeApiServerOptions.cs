using Microsoft.Extensions.Logging;

namespace Sandbox.KubeApi;

/// <summary>Settings of one emulated API server. Every value has a test-friendly default.</summary>
public sealed record KubeApiServerOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>TCP port of the HTTPS endpoint on 127.0.0.1 (same API, self-signed certificate); 0 picks a free port.</summary>
    public int SecurePort { get; init; }

    /// <summary>Clock for timestamps, bookmarks and ages; tests may pass a FakeTimeProvider.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How many watch events are kept for resuming watches; older resource versions get 410 Expired.</summary>
    public int WatchHistoryCapacity { get; init; } = 50_000;

    /// <summary>Interval of periodic BOOKMARK events on watches that asked for them (the real watch cache uses about a minute).</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Seed of the random source used for the 5xx share of the fault injector, so failing runs can be repeated.</summary>
    public int FaultSeed { get; init; } = 1;

    /// <summary>
    /// Enforce RBAC (the API server's --authorization-mode=RBAC): requests are authorized against the stored Roles,
    /// ClusterRoles and bindings, and requests without credentials are anonymous. Off (default): every authenticated
    /// or credential-less request is allowed, as before. Authentication of ServiceAccount tokens works in both modes.
    /// </summary>
    public bool Rbac { get; init; }

    /// <summary>
    /// With <see cref="Rbac"/>: enforce the OwnerReferencesPermissionEnforcement admission plugin (OpenShift and hardened
    /// clusters enable it): changing ownerReferences needs delete on the object, and setting blockOwnerDeletion needs
    /// update on the owner's finalizers subresource. The checks are recorded in the request log either way.
    /// </summary>
    public bool OwnerReferencesPermissionEnforcement { get; init; }

    /// <summary>The iss claim of ServiceAccount tokens and the OIDC issuer; null means the server's own address (http://127.0.0.1:PORT), where the discovery document is served.</summary>
    public string? ServiceAccountIssuer { get; init; }

    /// <summary>Logger factory for the server's own diagnostics; none by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
