using k8s;
using k8s.Models;

namespace Sandbox.KubeApi.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Kubeconfig_works_with_KubernetesClient_for_a_typed_create_and_get()
    {
        await using var server = await KubeApiServer.StartAsync();
        using var client = TestClients.Kubernetes(server);

        var created = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a" }, Data = new Dictionary<string, string> { ["k"] = "v" } }, "default");
        var read = await client.CoreV1.ReadNamespacedConfigMapAsync("a", "default");

        Assert.Equal("ConfigMap", created.Kind);
        Assert.Equal("v1", created.ApiVersion);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Equal("v", read.Data["k"]);
        Assert.Equal(new Uri($"http://127.0.0.1:{server.BaseAddress.Port}/"), server.BaseAddress);
    }
}
