using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;

namespace Sandbox.KubeApi.Tests;

/// <summary>Clients wired to an emulator the way the operator's tests will wire them.</summary>
public static class TestClients
{
    public static Kubernetes Kubernetes(KubeApiServer server)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(new MemoryStream(Encoding.UTF8.GetBytes(server.KubeconfigYaml)));
        return new Kubernetes(config);
    }

    public static HttpClient Http(KubeApiServer server) => new() { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<(int Code, JsonNode? Body)> SendAsync(this HttpClient http, HttpMethod method, string path, JsonNode? body = null, string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public static Task<(int Code, JsonNode? Body)> GetJsonAsync(this HttpClient http, string path, string? accept = null) =>
        http.SendAsync(HttpMethod.Get, path, accept: accept);

    public static Task<(int Code, JsonNode? Body)> PostJsonAsync(this HttpClient http, string path, JsonNode body) =>
        http.SendAsync(HttpMethod.Post, path, body);

    public static Task<(int Code, JsonNode? Body)> PutJsonAsync(this HttpClient http, string path, JsonNode body) =>
        http.SendAsync(HttpMethod.Put, path, body);

    public static Task<(int Code, JsonNode? Body)> PatchJsonAsync(this HttpClient http, string path, JsonNode body, string contentType) =>
        http.SendAsync(HttpMethod.Patch, path, body, contentType);

    public static Task<(int Code, JsonNode? Body)> DeleteJsonAsync(this HttpClient http, string path, JsonNode? body = null) =>
        http.SendAsync(HttpMethod.Delete, path, body);

    public static JsonObject ConfigMap(string name, string? ns = null, Dictionary<string, string>? labels = null)
    {
        var meta = new JsonObject { ["name"] = name };
        if (ns is not null)
        {
            meta["namespace"] = ns;
        }

        if (labels is not null)
        {
            meta["labels"] = new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        }

        return new JsonObject { ["metadata"] = meta, ["data"] = new JsonObject { ["k"] = "v" } };
    }
}
