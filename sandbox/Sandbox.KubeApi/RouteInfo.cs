namespace Sandbox.KubeApi;

/// <summary>What a request path addresses.</summary>
internal sealed record RouteInfo
{
    public required string Verb { get; init; }

    public ResourceType? Type { get; init; }

    public string? Group { get; init; }

    public string? Version { get; init; }

    public string? Namespace { get; init; }

    public string? Name { get; init; }

    public string? Subresource { get; init; }

    /// <summary>Non-resource endpoints: version, api, apis, group, groupversion, openapi, openapi-gv, health.</summary>
    public string? Special { get; init; }

    public bool NotFound { get; init; }
}
