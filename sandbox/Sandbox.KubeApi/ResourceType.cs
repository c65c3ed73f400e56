using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>How metadata.generation moves for a kind.</summary>
internal enum GenerationPolicy
{
    /// <summary>The kind has no generation (ConfigMap, Secret, Lease, ...).</summary>
    None,

    /// <summary>Bumps on any change outside metadata and status.</summary>
    Spec,

    /// <summary>Bumps on any change outside metadata (custom resources without a status subresource).</summary>
    AllButMetadata,

    /// <summary>Bumps on spec or annotation changes (Deployment).</summary>
    SpecOrAnnotations,
}

/// <summary>Paths of the scale subresource inside the parent object.</summary>
internal sealed record ScalePaths(string SpecReplicasPath, string StatusReplicasPath, string? LabelSelectorPath);

/// <summary>One printer column of a Table answer.</summary>
internal sealed record PrinterColumn(string Name, string Type, string JsonPath, string Format = "", string Description = "", int Priority = 0);

/// <summary>A served group/version/resource and the rules its objects follow.</summary>
internal sealed record ResourceType
{
    public required string Group { get; init; }

    public required string Version { get; init; }

    public required string Plural { get; init; }

    public required string Kind { get; init; }

    public required bool Namespaced { get; init; }

    public string Singular { get; init; } = "";

    public string ListKind => CustomListKind ?? Kind + "List";

    public string? CustomListKind { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    public bool HasStatus { get; init; }

    public ScalePaths? Scale { get; init; }

    public GenerationPolicy Generation { get; init; }

    /// <summary>PUT without metadata.resourceVersion is refused (custom resources, leases).</summary>
    public bool UpdateRequiresResourceVersion { get; init; }

    /// <summary>PUT on a missing object creates it (leases, services, endpoints, events).</summary>
    public bool PutCreates { get; init; }

    /// <summary>DELETE answers with the deleted object instead of a Status (pods, service accounts).</summary>
    public bool DeleteReturnsObject { get; init; }

    /// <summary>Which name rule metadata.name follows.</summary>
    public NameRule NameRule { get; init; } = NameRule.Subdomain;

    public bool IsCustom { get; init; }

    /// <summary>A review answered but never stored (TokenReview, SubjectAccessReview, ...): only create is served.</summary>
    public bool CreateOnly { get; init; }

    /// <summary>The CRD's openAPIV3Schema for this version, for custom resources.</summary>
    public JsonObject? Schema { get; init; }

    public IReadOnlyList<PrinterColumn> Columns { get; init; } = [];

    /// <summary>Field selector paths beyond metadata.name and metadata.namespace.</summary>
    public IReadOnlyList<string> SelectableFields { get; init; } = [];

    /// <summary>Objects of every version of one resource share one storage bucket.</summary>
    public string StorageKey => StorageOverride ?? (Group.Length == 0 ? Plural : Plural + "." + Group);

    public string? StorageOverride { get; init; }

    public string ApiVersion => Group.Length == 0 ? Version : Group + "/" + Version;

    /// <summary>resource or resource.group, as used in error messages.</summary>
    public string GroupResource => Group.Length == 0 ? Plural : Plural + "." + Group;

    public string KindWithGroup => Group.Length == 0 ? Kind : Kind + "." + Group;

    public bool Is(string group, string plural) => Group == group && Plural == plural;
}

/// <summary>Validation rule of metadata.name.</summary>
internal enum NameRule
{
    Subdomain,
    Label,
    Dns1035,

    /// <summary>Any name usable as a path segment (RBAC objects: "system:discovery").</summary>
    PathSegment,
}
