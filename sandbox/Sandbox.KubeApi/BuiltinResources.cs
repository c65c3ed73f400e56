namespace Sandbox.KubeApi;

/// <summary>The built-in kinds the operator and kubectl touch (spec section 9).</summary>
internal static class BuiltinResources
{
    private static readonly string[] All = ["all"];

    public static List<ResourceType> Create() =>
    [
        Core("namespaces", "Namespace", namespaced: false) with { HasStatus = true, ShortNames = ["ns"], NameRule = NameRule.Label },
        Core("pods", "Pod") with { HasStatus = true, ShortNames = ["po"], Categories = All, DeleteReturnsObject = true, SelectableFields = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"] },
        Core("services", "Service") with { HasStatus = true, ShortNames = ["svc"], Categories = All, PutCreates = true, NameRule = NameRule.Dns1035 },
        Core("configmaps", "ConfigMap") with { ShortNames = ["cm"] },
        Core("secrets", "Secret") with { SelectableFields = ["type"] },
        Core("events", "Event") with { ShortNames = ["ev"], PutCreates = true, SelectableFields = ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"] },
        Core("persistentvolumeclaims", "PersistentVolumeClaim") with { HasStatus = true, ShortNames = ["pvc"] },
        Core("endpoints", "Endpoints") with { ShortNames = ["ep"], PutCreates = true },
        Core("serviceaccounts", "ServiceAccount") with { ShortNames = ["sa"], DeleteReturnsObject = true },
        Named("apps", "deployments", "Deployment") with { HasStatus = true, ShortNames = ["deploy"], Categories = All, Generation = GenerationPolicy.SpecOrAnnotations, Scale = new ScalePaths(".spec.replicas", ".status.replicas", ".spec.selector") },
        Named("apps", "replicasets", "ReplicaSet") with { HasStatus = true, ShortNames = ["rs"], Categories = All, Generation = GenerationPolicy.Spec, Scale = new ScalePaths(".spec.replicas", ".status.replicas", ".spec.selector") },
        Named("coordination.k8s.io", "leases", "Lease") with { UpdateRequiresResourceVersion = true, PutCreates = true },
        Named("events.k8s.io", "events", "Event") with { ShortNames = ["ev"], StorageOverride = "events", PutCreates = true },
        Named("networking.k8s.io", "ingresses", "Ingress") with { HasStatus = true, ShortNames = ["ing"], Generation = GenerationPolicy.Spec },
        Named("networking.k8s.io", "networkpolicies", "NetworkPolicy") with { ShortNames = ["netpol"], Generation = GenerationPolicy.Spec },
        Named("networking.k8s.io", "ingressclasses", "IngressClass", namespaced: false),
        Named("policy", "poddisruptionbudgets", "PodDisruptionBudget") with { HasStatus = true, ShortNames = ["pdb"], Generation = GenerationPolicy.Spec },
        Named("discovery.k8s.io", "endpointslices", "EndpointSlice"),
        Named("rbac.authorization.k8s.io", "roles", "Role") with { NameRule = NameRule.PathSegment },
        Named("rbac.authorization.k8s.io", "rolebindings", "RoleBinding") with { NameRule = NameRule.PathSegment },
        Named("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", namespaced: false) with { NameRule = NameRule.PathSegment },
        Named("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", namespaced: false) with { NameRule = NameRule.PathSegment },
        Named("authentication.k8s.io", "tokenreviews", "TokenReview", namespaced: false) with { CreateOnly = true },
        Named("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", namespaced: false) with { CreateOnly = true },
        Named("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview", namespaced: false) with { CreateOnly = true },
        Named("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview", namespaced: false) with { CreateOnly = true },
        Named("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview", namespaced: false) with { CreateOnly = true },
        Named("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview") with { CreateOnly = true },
        Named("batch", "jobs", "Job") with { HasStatus = true, Categories = All, Generation = GenerationPolicy.Spec },
        Named("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", namespaced: false) with { HasStatus = true, ShortNames = ["crd", "crds"], Generation = GenerationPolicy.Spec },
    ];

    private static ResourceType Core(string plural, string kind, bool namespaced = true) => Named("", plural, kind, namespaced);

    private static ResourceType Named(string group, string plural, string kind, bool namespaced = true) => new()
    {
        Group = group,
        Version = "v1",
        Plural = plural,
        Kind = kind,
        Namespaced = namespaced,
        Singular = kind.ToLowerInvariant(),
    };
}
