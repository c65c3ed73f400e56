using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Sandbox.Kubelet;

/// <summary>
/// The deployment controller's bookkeeping of ReplicaSets, which <c>kubectl rollout history/undo</c> and
/// <c>kubectl get rs</c> read: one ReplicaSet per pod template, named <c>{deployment}-{pod-template-hash}</c>,
/// numbered by the <c>deployment.kubernetes.io/revision</c> annotation (a template that comes back, as after
/// <c>rollout undo</c>, reuses its ReplicaSet under the next revision and records the old number in
/// <c>revision-history</c>), and old ReplicaSets kept up to <c>spec.revisionHistoryLimit</c>. Pure.
/// </summary>
internal static class ReplicaSetHistory
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";

    // Deployment annotations the controller does not copy to its ReplicaSets.
    private static readonly HashSet<string> NotCopied = new(StringComparer.Ordinal)
    {
        "kubectl.kubernetes.io/last-applied-configuration", RevisionAnnotation, RevisionHistoryAnnotation, DesiredReplicasAnnotation, MaxReplicasAnnotation,
    };

    public static long Revision(V1ReplicaSet rs) =>
        rs.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var text) == true && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    public static string Hash(V1ReplicaSet rs) => rs.Metadata.Labels?.TryGetValue(LocalKubelet.TemplateHashLabel, out var hash) == true ? hash : "";

    /// <summary>The ReplicaSets a Deployment controls (by controller owner reference), oldest revision first.</summary>
    public static List<V1ReplicaSet> OwnedBy(V1Deployment deployment, IEnumerable<V1ReplicaSet> all) =>
        [.. all.Where(rs => rs.Metadata.DeletionTimestamp is null && rs.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Uid == deployment.Uid()) == true)
            .OrderBy(Revision).ThenBy(rs => rs.Metadata.CreationTimestamp)];

    /// <summary>The ReplicaSet whose template (without its pod-template-hash label) is the Deployment's template.</summary>
    public static V1ReplicaSet? Matching(V1Deployment deployment, IEnumerable<V1ReplicaSet> owned)
    {
        var wanted = Normalized(deployment.Spec.Template, null);
        return owned.FirstOrDefault(rs => JsonNode.DeepEquals(Normalized(rs.Spec.Template, Hash(rs)), wanted));
    }

    /// <summary>A new ReplicaSet for the Deployment's current template at <paramref name="revision"/>.</summary>
    public static V1ReplicaSet New(V1Deployment deployment, string hash, long revision, int maxReplicas)
    {
        var template = KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(deployment.Spec.Template));
        template.Metadata ??= new V1ObjectMeta();
        template.Metadata.Labels = new Dictionary<string, string>(template.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal) { [LocalKubelet.TemplateHashLabel] = hash };
        var selector = KubernetesJson.Deserialize<V1LabelSelector>(KubernetesJson.Serialize(deployment.Spec.Selector));
        selector.MatchLabels = new Dictionary<string, string>(selector.MatchLabels ?? new Dictionary<string, string>(), StringComparer.Ordinal) { [LocalKubelet.TemplateHashLabel] = hash };
        return new V1ReplicaSet
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            Metadata = new V1ObjectMeta
            {
                Name = $"{deployment.Name()}-{hash}",
                NamespaceProperty = deployment.Namespace(),
                Labels = template.Metadata.Labels,
                Annotations = Annotations(deployment, revision, maxReplicas, history: null),
                OwnerReferences =
                [
                    new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = deployment.Name(), Uid = deployment.Uid(), Controller = true, BlockOwnerDeletion = true },
                ],
            },
            Spec = new V1ReplicaSetSpec { Replicas = deployment.Spec.Replicas ?? 1, MinReadySeconds = deployment.Spec.MinReadySeconds, Selector = selector, Template = template },
        };
    }

    /// <summary>The annotations of the current ReplicaSet: the Deployment's own (as the controller copies them), revision, replica counts.</summary>
    public static Dictionary<string, string> Annotations(V1Deployment deployment, long revision, int maxReplicas, string? history)
    {
        var annotations = (deployment.Metadata.Annotations ?? new Dictionary<string, string>())
            .Where(a => !NotCopied.Contains(a.Key))
            .ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        annotations[RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture);
        annotations[DesiredReplicasAnnotation] = (deployment.Spec.Replicas ?? 1).ToString(CultureInfo.InvariantCulture);
        annotations[MaxReplicasAnnotation] = maxReplicas.ToString(CultureInfo.InvariantCulture);
        if (history is not null)
        {
            annotations[RevisionHistoryAnnotation] = history;
        }

        return annotations;
    }

    /// <summary>Old ReplicaSets beyond the history limit: scaled to zero, without pods, oldest first.</summary>
    public static IEnumerable<V1ReplicaSet> Expired(V1Deployment deployment, IReadOnlyList<V1ReplicaSet> owned, V1ReplicaSet current, Func<V1ReplicaSet, bool> hasPods)
    {
        var limit = deployment.Spec.RevisionHistoryLimit ?? 10;
        var old = owned.Where(rs => rs.Uid() != current.Uid() && (rs.Spec.Replicas ?? 0) == 0 && !hasPods(rs)).OrderBy(Revision).ToList();
        return old.Take(Math.Max(0, old.Count - limit));
    }

    private static JsonNode? Normalized(V1PodTemplateSpec template, string? hash)
    {
        var node = JsonNode.Parse(KubernetesJson.Serialize(template));
        if (hash is not null && node?["metadata"]?["labels"] is JsonObject labels && (string?)labels[LocalKubelet.TemplateHashLabel] == hash)
        {
            labels.Remove(LocalKubelet.TemplateHashLabel);
        }

        return WithoutEmpty(node);
    }

    // Semantic equality as the controller's: an empty struct ("resources": {}) equals an absent one (clients differ in which they send).
    private static JsonNode? WithoutEmpty(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (WithoutEmpty(value) is null || value is JsonObject { Count: 0 } or JsonArray { Count: 0 })
                    {
                        obj.Remove(key);
                    }
                }

                return obj.Count == 0 ? null : obj;
            case JsonArray array:
                foreach (var item in array)
                {
                    WithoutEmpty(item);
                }

                return array;
            default:
                return node;
        }
    }
}
