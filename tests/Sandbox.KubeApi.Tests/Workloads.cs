using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Built-in manifests used by several tests.</summary>
public static class Workloads
{
    public static JsonObject Deployment(string name, int replicas = 2) => JsonNode.Parse($$$"""
    {
      "metadata": {"name": "{{{name}}}", "labels": {"app": "{{{name}}}"}},
      "spec": {
        "replicas": {{{replicas}}},
        "selector": {"matchLabels": {"app": "{{{name}}}"}},
        "template": {
          "metadata": {"labels": {"app": "{{{name}}}"}},
          "spec": {"containers": [
            {"name": "main", "image": "receiver:1.0", "ports": [{"containerPort": 8080}], "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "sidecar", "image": "proxy:2.0"}
          ]}
        }
      }
    }
    """)!.AsObject();

    public static JsonObject AvailableStatus(int replicas) => JsonNode.Parse($$$"""
    {
      "observedGeneration": 1, "replicas": {{{replicas}}}, "updatedReplicas": {{{replicas}}}, "readyReplicas": {{{replicas}}}, "availableReplicas": {{{replicas}}},
      "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."}]
    }
    """)!.AsObject();
}
