using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Test CRDs: widgets.example.com (status subresource, printer columns) and gadgets.example.com (no status subresource).</summary>
public static class Crds
{
    public static JsonObject Widget(bool withStatus = true, string plural = "widgets", string kind = "Widget") => JsonNode.Parse($$$"""
    {
      "apiVersion": "apiextensions.k8s.io/v1",
      "kind": "CustomResourceDefinition",
      "metadata": {"name": "{{{plural}}}.example.com"},
      "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "{{{plural}}}", "singular": "{{{kind.ToLowerInvariant()}}}", "kind": "{{{kind}}}", "shortNames": ["{{{plural[..2]}}}"]},
        "versions": [{
          "name": "v1", "served": true, "storage": true,
          {{{(withStatus ? "\"subresources\": {\"status\": {}, \"scale\": {\"specReplicasPath\": \".spec.replicas\", \"statusReplicasPath\": \".status.replicas\"}}," : "")}}}
          "additionalPrinterColumns": [
            {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
          ],
          "schema": {"openAPIV3Schema": {
            "type": "object",
            "properties": {
              "spec": {"type": "object", "required": ["size"], "properties": {
                "size": {"type": "integer", "minimum": 1, "description": "How big the widget is."},
                "replicas": {"type": "integer"},
                "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                "url": {"type": "string", "format": "uri"},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
              }},
              "status": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "phase": {"type": "string"},
                "conditions": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
              }}
            }
          }}
        }]
      }
    }
    """)!.AsObject();

    public static JsonObject WidgetObject(string name, int size = 3, string kind = "Widget") => new()
    {
        ["apiVersion"] = "example.com/v1",
        ["kind"] = kind,
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { ["size"] = size },
    };

    public static async Task InstallAsync(HttpClient http, JsonObject crd)
    {
        var (code, body) = await http.PostJsonAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
        if (code != 201)
        {
            throw new InvalidOperationException($"CRD create failed: {code} {body}");
        }
    }
}
