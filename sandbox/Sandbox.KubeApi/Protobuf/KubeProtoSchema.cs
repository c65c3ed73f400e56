namespace Sandbox.KubeApi.Protobuf;

/// <summary>
/// The k8s.io/api protobuf messages the sandbox decodes: the kinds <c>kubectl create</c>, <c>run</c>
/// and <c>expose</c> build (and the fields they can set), keyed by apiVersion and kind. Field numbers
/// follow the <c>protobuf:"...,N,..."</c> tags of the Go types; the names are their JSON names.
/// </summary>
internal static class KubeProtoSchema
{
    private static readonly Dictionary<(string ApiVersion, string Kind), ProtoMessage> Kinds = Build();

    /// <summary>The message of a kind, or null when the sandbox cannot decode it from protobuf.</summary>
    public static ProtoMessage? For(string apiVersion, string kind) => Kinds.GetValueOrDefault((apiVersion, kind));

    public static IEnumerable<(string ApiVersion, string Kind)> SupportedKinds => Kinds.Keys;

    private static Dictionary<(string, string), ProtoMessage> Build()
    {
        // meta/v1
        var ownerReference = new ProtoMessage("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference")
            .Str(1, "kind", keepEmpty: true).Str(3, "name", keepEmpty: true).Str(4, "uid", keepEmpty: true).Str(5, "apiVersion", keepEmpty: true)
            .Bool(6, "controller", pointer: true).Bool(7, "blockOwnerDeletion", pointer: true);
        var objectMeta = new ProtoMessage("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
            .Str(1, "name").Str(2, "generateName").Str(3, "namespace").Str(4, "selfLink").Str(5, "uid").Str(6, "resourceVersion")
            .Int(7, "generation").Time(8, "creationTimestamp").Time(9, "deletionTimestamp").Int(10, "deletionGracePeriodSeconds", pointer: true)
            .Map(11, "labels").Map(12, "annotations").Objs(13, "ownerReferences", ownerReference).Strs(14, "finalizers");
        var requirement = new ProtoMessage("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement")
            .Str(1, "key", keepEmpty: true).Str(2, "operator", keepEmpty: true).Strs(3, "values");
        var labelSelector = new ProtoMessage("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector")
            .Map(1, "matchLabels").Objs(2, "matchExpressions", requirement);

        // core/v1: containers and pods
        var localObjectReference = new ProtoMessage("io.k8s.api.core.v1.LocalObjectReference").Str(1, "name");
        var objectReference = new ProtoMessage("io.k8s.api.core.v1.ObjectReference")
            .Str(1, "kind").Str(2, "namespace").Str(3, "name").Str(4, "uid").Str(5, "apiVersion").Str(6, "resourceVersion").Str(7, "fieldPath");
        var containerPort = new ProtoMessage("io.k8s.api.core.v1.ContainerPort")
            .Str(1, "name").Int(2, "hostPort").Int(3, "containerPort", pointer: true).Str(4, "protocol").Str(5, "hostIP");
        var fieldSelector = new ProtoMessage("io.k8s.api.core.v1.ObjectFieldSelector").Str(1, "apiVersion").Str(2, "fieldPath", keepEmpty: true);
        var resourceFieldSelector = new ProtoMessage("io.k8s.api.core.v1.ResourceFieldSelector")
            .Str(1, "containerName").Str(2, "resource", keepEmpty: true).Quantity(3, "divisor");
        var configMapKeySelector = new ProtoMessage("io.k8s.api.core.v1.ConfigMapKeySelector")
            .Inline(1, localObjectReference).Str(2, "key", keepEmpty: true).Bool(3, "optional", pointer: true);
        var secretKeySelector = new ProtoMessage("io.k8s.api.core.v1.SecretKeySelector")
            .Inline(1, localObjectReference).Str(2, "key", keepEmpty: true).Bool(3, "optional", pointer: true);
        var envVarSource = new ProtoMessage("io.k8s.api.core.v1.EnvVarSource")
            .Obj(1, "fieldRef", fieldSelector).Obj(2, "resourceFieldRef", resourceFieldSelector)
            .Obj(3, "configMapKeyRef", configMapKeySelector).Obj(4, "secretKeyRef", secretKeySelector);
        var envVar = new ProtoMessage("io.k8s.api.core.v1.EnvVar").Str(1, "name", keepEmpty: true).Str(2, "value").Obj(3, "valueFrom", envVarSource);
        var configMapEnvSource = new ProtoMessage("io.k8s.api.core.v1.ConfigMapEnvSource").Inline(1, localObjectReference).Bool(2, "optional", pointer: true);
        var secretEnvSource = new ProtoMessage("io.k8s.api.core.v1.SecretEnvSource").Inline(1, localObjectReference).Bool(2, "optional", pointer: true);
        var envFromSource = new ProtoMessage("io.k8s.api.core.v1.EnvFromSource")
            .Str(1, "prefix").Obj(2, "configMapRef", configMapEnvSource).Obj(3, "secretRef", secretEnvSource);
        var resources = new ProtoMessage("io.k8s.api.core.v1.ResourceRequirements").QuantityMap(1, "limits").QuantityMap(2, "requests");
        var volumeMount = new ProtoMessage("io.k8s.api.core.v1.VolumeMount")
            .Str(1, "name", keepEmpty: true).Bool(2, "readOnly").Str(3, "mountPath", keepEmpty: true).Str(4, "subPath").Str(5, "mountPropagation", keepEmpty: false).Str(6, "subPathExpr");
        var capabilities = new ProtoMessage("io.k8s.api.core.v1.Capabilities").Strs(1, "add").Strs(2, "drop");
        var securityContext = new ProtoMessage("io.k8s.api.core.v1.SecurityContext")
            .Obj(1, "capabilities", capabilities).Bool(2, "privileged", pointer: true).Int(4, "runAsUser", pointer: true)
            .Bool(5, "runAsNonRoot", pointer: true).Bool(6, "readOnlyRootFilesystem", pointer: true).Bool(7, "allowPrivilegeEscalation", pointer: true)
            .Int(8, "runAsGroup", pointer: true);
        var container = new ProtoMessage("io.k8s.api.core.v1.Container")
            .Str(1, "name", keepEmpty: true).Str(2, "image").Strs(3, "command").Strs(4, "args").Str(5, "workingDir")
            .Objs(6, "ports", containerPort).Objs(7, "env", envVar).Obj(8, "resources", resources).Objs(9, "volumeMounts", volumeMount)
            .Str(13, "terminationMessagePath").Str(14, "imagePullPolicy").Obj(15, "securityContext", securityContext)
            .Bool(16, "stdin").Bool(17, "stdinOnce").Bool(18, "tty").Objs(19, "envFrom", envFromSource).Str(20, "terminationMessagePolicy");
        var podSpec = new ProtoMessage("io.k8s.api.core.v1.PodSpec")
            .Objs(2, "containers", container).Str(3, "restartPolicy").Int(4, "terminationGracePeriodSeconds", pointer: true)
            .Int(5, "activeDeadlineSeconds", pointer: true).Str(6, "dnsPolicy").Map(7, "nodeSelector").Str(8, "serviceAccountName")
            .Str(9, "serviceAccount").Str(10, "nodeName").Bool(11, "hostNetwork").Bool(12, "hostPID").Bool(13, "hostIPC")
            .Objs(15, "imagePullSecrets", localObjectReference).Str(16, "hostname").Str(17, "subdomain").Str(19, "schedulerName")
            .Objs(20, "initContainers", container).Bool(21, "automountServiceAccountToken", pointer: true).Str(24, "priorityClassName")
            .Int(25, "priority", pointer: true).Bool(27, "shareProcessNamespace", pointer: true).Bool(30, "enableServiceLinks", pointer: true)
            .Bool(35, "setHostnameAsFQDN", pointer: true).Obj(40, "resources", resources);
        var podTemplate = new ProtoMessage("io.k8s.api.core.v1.PodTemplateSpec").Obj(1, "metadata", objectMeta).Obj(2, "spec", podSpec);

        // Status as a client sends it on create: Go writes its non-pointer scalars even when zero.
        var podStatus = new ProtoMessage("io.k8s.api.core.v1.PodStatus")
            .Str(1, "phase").Str(3, "message").Str(4, "reason").Str(5, "hostIP").Str(6, "podIP").Str(9, "qosClass")
            .Str(11, "nominatedNodeName").Str(14, "resize").Int(17, "observedGeneration");
        var pod = new ProtoMessage("io.k8s.api.core.v1.Pod")
            .Obj(1, "metadata", objectMeta).Obj(2, "spec", podSpec).Obj(3, "status", podStatus);

        // core/v1: the rest
        var ns = new ProtoMessage("io.k8s.api.core.v1.Namespace")
            .Obj(1, "metadata", objectMeta)
            .Obj(2, "spec", new ProtoMessage("io.k8s.api.core.v1.NamespaceSpec").Strs(1, "finalizers"))
            .Obj(3, "status", new ProtoMessage("io.k8s.api.core.v1.NamespaceStatus").Str(1, "phase"));
        var secret = new ProtoMessage("io.k8s.api.core.v1.Secret")
            .Obj(1, "metadata", objectMeta).BytesMap(2, "data").Str(3, "type").Map(4, "stringData").Bool(5, "immutable", pointer: true);
        var configMap = new ProtoMessage("io.k8s.api.core.v1.ConfigMap")
            .Obj(1, "metadata", objectMeta).Map(2, "data").BytesMap(3, "binaryData").Bool(4, "immutable", pointer: true);
        var serviceAccount = new ProtoMessage("io.k8s.api.core.v1.ServiceAccount")
            .Obj(1, "metadata", objectMeta).Objs(2, "secrets", objectReference).Objs(3, "imagePullSecrets", localObjectReference)
            .Bool(4, "automountServiceAccountToken", pointer: true);
        var servicePort = new ProtoMessage("io.k8s.api.core.v1.ServicePort")
            .Str(1, "name").Str(2, "protocol").Int(3, "port", pointer: true).IntOrString(4, "targetPort").Int(5, "nodePort").Str(6, "appProtocol", keepEmpty: true);
        var serviceSpec = new ProtoMessage("io.k8s.api.core.v1.ServiceSpec")
            .Objs(1, "ports", servicePort).Map(2, "selector").Str(3, "clusterIP").Str(4, "type").Strs(5, "externalIPs")
            .Str(7, "sessionAffinity").Str(8, "loadBalancerIP").Strs(9, "loadBalancerSourceRanges").Str(10, "externalName")
            .Str(11, "externalTrafficPolicy").Int(12, "healthCheckNodePort").Bool(13, "publishNotReadyAddresses")
            .Str(17, "ipFamilyPolicy", keepEmpty: true).Strs(18, "clusterIPs").Strs(19, "ipFamilies")
            .Bool(20, "allocateLoadBalancerNodePorts", pointer: true).Str(21, "loadBalancerClass", keepEmpty: true).Str(22, "internalTrafficPolicy", keepEmpty: true);
        var service = new ProtoMessage("io.k8s.api.core.v1.Service")
            .Obj(1, "metadata", objectMeta).Obj(2, "spec", serviceSpec)
            .Obj(3, "status", new ProtoMessage("io.k8s.api.core.v1.ServiceStatus").Obj(1, "loadBalancer", new ProtoMessage("io.k8s.api.core.v1.LoadBalancerStatus")));

        // apps/v1
        var rollingUpdate = new ProtoMessage("io.k8s.api.apps.v1.RollingUpdateDeployment").IntOrString(1, "maxUnavailable").IntOrString(2, "maxSurge");
        var strategy = new ProtoMessage("io.k8s.api.apps.v1.DeploymentStrategy").Str(1, "type").Obj(2, "rollingUpdate", rollingUpdate);
        var deploymentSpec = new ProtoMessage("io.k8s.api.apps.v1.DeploymentSpec")
            .Int(1, "replicas", pointer: true).Obj(2, "selector", labelSelector).Obj(3, "template", podTemplate).Obj(4, "strategy", strategy)
            .Int(5, "minReadySeconds").Int(6, "revisionHistoryLimit", pointer: true).Bool(7, "paused").Int(9, "progressDeadlineSeconds", pointer: true);
        var deployment = new ProtoMessage("io.k8s.api.apps.v1.Deployment")
            .Obj(1, "metadata", objectMeta).Obj(2, "spec", deploymentSpec).Obj(3, "status", new ProtoMessage("io.k8s.api.apps.v1.DeploymentStatus")
                .Int(1, "observedGeneration").Int(2, "replicas").Int(3, "updatedReplicas").Int(4, "availableReplicas")
                .Int(5, "unavailableReplicas").Int(7, "readyReplicas"));

        // batch/v1
        var jobSpec = new ProtoMessage("io.k8s.api.batch.v1.JobSpec")
            .Int(1, "parallelism", pointer: true).Int(2, "completions", pointer: true).Int(3, "activeDeadlineSeconds", pointer: true)
            .Obj(4, "selector", labelSelector).Bool(5, "manualSelector", pointer: true).Obj(6, "template", podTemplate)
            .Int(7, "backoffLimit", pointer: true).Int(8, "ttlSecondsAfterFinished", pointer: true).Str(9, "completionMode", keepEmpty: true)
            .Bool(10, "suspend", pointer: true);
        var job = new ProtoMessage("io.k8s.api.batch.v1.Job")
            .Obj(1, "metadata", objectMeta).Obj(2, "spec", jobSpec).Obj(3, "status", new ProtoMessage("io.k8s.api.batch.v1.JobStatus")
                .Int(4, "active").Int(5, "succeeded").Int(6, "failed").Str(7, "completedIndexes"));

        // rbac.authorization.k8s.io/v1
        var policyRule = new ProtoMessage("io.k8s.api.rbac.v1.PolicyRule")
            .Strs(1, "verbs").Strs(2, "apiGroups").Strs(3, "resources").Strs(4, "resourceNames").Strs(5, "nonResourceURLs");
        var aggregationRule = new ProtoMessage("io.k8s.api.rbac.v1.AggregationRule").Objs(1, "clusterRoleSelectors", labelSelector);
        var subject = new ProtoMessage("io.k8s.api.rbac.v1.Subject")
            .Str(1, "kind", keepEmpty: true).Str(2, "apiGroup").Str(3, "name", keepEmpty: true).Str(4, "namespace");
        var roleRef = new ProtoMessage("io.k8s.api.rbac.v1.RoleRef")
            .Str(1, "apiGroup", keepEmpty: true).Str(2, "kind", keepEmpty: true).Str(3, "name", keepEmpty: true);
        var role = new ProtoMessage("io.k8s.api.rbac.v1.Role").Obj(1, "metadata", objectMeta).Objs(2, "rules", policyRule);
        var clusterRole = new ProtoMessage("io.k8s.api.rbac.v1.ClusterRole")
            .Obj(1, "metadata", objectMeta).Objs(2, "rules", policyRule).Obj(3, "aggregationRule", aggregationRule);
        var roleBinding = new ProtoMessage("io.k8s.api.rbac.v1.RoleBinding").Obj(1, "metadata", objectMeta).Objs(2, "subjects", subject).Obj(3, "roleRef", roleRef);
        var clusterRoleBinding = new ProtoMessage("io.k8s.api.rbac.v1.ClusterRoleBinding").Obj(1, "metadata", objectMeta).Objs(2, "subjects", subject).Obj(3, "roleRef", roleRef);

        const string Rbac = "rbac.authorization.k8s.io/v1";
        return new()
        {
            [("v1", "Namespace")] = ns,
            [("v1", "Secret")] = secret,
            [("v1", "ConfigMap")] = configMap,
            [("v1", "ServiceAccount")] = serviceAccount,
            [("v1", "Service")] = service,
            [("v1", "Pod")] = pod,
            [("apps/v1", "Deployment")] = deployment,
            [("batch/v1", "Job")] = job,
            [(Rbac, "Role")] = role,
            [(Rbac, "ClusterRole")] = clusterRole,
            [(Rbac, "RoleBinding")] = roleBinding,
            [(Rbac, "ClusterRoleBinding")] = clusterRoleBinding,
        };
    }
}
