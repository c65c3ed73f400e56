using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>
/// What the real kubectl sends as protobuf (<c>kubectl create ...</c>) is stored exactly as the same command's
/// JSON (<c>kubectl create ... -o yaml --dry-run=client | kubectl apply -f -</c>), kind by kind.
/// </summary>
public sealed class ProtobufKubectlTests : EmulatorTest
{
    private Kubectl _kubectl = null!;

    protected override async Task ArrangeAsync()
    {
        _kubectl = await Kubectl.ForAsync(Server);
        foreach (var ns in new[] { "proto", "json" })
        {
            var created = await _kubectl.RunAsync("create", "namespace", ns);
            Assert.True(created.ExitCode == 0, created.Err);
        }
    }

    protected override Task CleanUpAsync()
    {
        _kubectl.Dispose();
        return Task.CompletedTask;
    }

    public static TheoryData<string, string[]> NamespacedCommands() => new()
    {
        { "secret/generic", ["create", "secret", "generic", "generic", "--from-literal=a=b", "--from-literal=empty=", "--from-file=bin={binary}"] },
        { "secret/docker-registry", ["create", "secret", "docker-registry", "registry", "--docker-server=registry.example", "--docker-username=u", "--docker-password=p", "--docker-email=u@example.com"] },
        { "configmap", ["create", "configmap", "settings", "--from-literal=mode=fast", "--from-literal=level=3", "--from-file=blob={binary}"] },
        { "serviceaccount", ["create", "serviceaccount", "robot"] },
        { "service/clusterip", ["create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=443:https"] },
        { "service/headless", ["create", "service", "clusterip", "headless", "--clusterip=None", "--tcp=80"] },
        { "service/nodeport", ["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"] },
        { "service/loadbalancer", ["create", "service", "loadbalancer", "lb", "--tcp=5678:8080"] },
        { "service/externalname", ["create", "service", "externalname", "ext", "--external-name=db.example.com"] },
        { "deployment", ["create", "deployment", "web", "--image=nginx:1.27", "--image=busybox", "--port=80", "--replicas=3"] },
        { "deployment/command", ["create", "deployment", "cmd", "--image=busybox", "--", "/bin/sh", "-c", "sleep 3600"] },
        { "job", ["create", "job", "once", "--image=busybox", "--", "echo", "hello"] },
        { "role", ["create", "role", "reader", "--verb=get,list,watch", "--resource=pods,deployments.apps,pods/log", "--resource-name=one"] },
        { "rolebinding", ["create", "rolebinding", "read", "--role=reader", "--serviceaccount=proto:robot", "--user=alice", "--group=devs"] },
        { "rolebinding/clusterrole", ["create", "rolebinding", "view", "--clusterrole=view", "--user=bob"] },
    };

    [Theory]
    [MemberData(nameof(NamespacedCommands))]
    public async Task Namespaced_kind_sent_as_protobuf_is_stored_as_its_json_form(string name, string[] command)
    {
        await File.WriteAllBytesAsync(BinaryFile, [0, 1, 2, 0xff, 0xfe]);
        command = [.. command.Select(a => a.Replace("{binary}", BinaryFile, StringComparison.Ordinal))];
        var (kind, objectName) = await CreateBothWaysAsync(command, ["-n", "proto"], ["-n", "json"]);

        var viaProtobuf = await GetAsync(kind, objectName, "proto");
        var viaJson = await GetAsync(kind, objectName, "json");

        Assert.True(JsonNode.DeepEquals(viaJson, viaProtobuf), $"{name}:\njson:     {viaJson.ToJsonString()}\nprotobuf: {viaProtobuf.ToJsonString()}");
    }

    [Fact]
    public async Task Tls_secret_sent_as_protobuf_is_stored_as_its_json_form()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=sandbox.example", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certFile = _kubectl.WriteFile("tls.crt", cert.ExportCertificatePem());
        var keyFile = _kubectl.WriteFile("tls.key", key.ExportPkcs8PrivateKeyPem());

        var (kind, name) = await CreateBothWaysAsync(["create", "secret", "tls", "tls", "--cert=" + certFile, "--key=" + keyFile], ["-n", "proto"], ["-n", "json"]);

        var viaProtobuf = await GetAsync(kind, name, "proto");
        Assert.Equal("kubernetes.io/tls", viaProtobuf["type"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(await GetAsync(kind, name, "json"), viaProtobuf));
    }

    [Theory]
    [InlineData("namespace", "create namespace {0}")]
    [InlineData("clusterrole", "create clusterrole {0} --verb=get,list --resource=pods")]
    [InlineData("clusterrole/non-resource", "create clusterrole {0} --verb=get --non-resource-url=/healthz --non-resource-url=/logs/*")]
    [InlineData("clusterrole/aggregated", "create clusterrole {0} --aggregation-rule=rbac.example.com/aggregate-to-view=true")]
    [InlineData("clusterrolebinding", "create clusterrolebinding {0} --clusterrole=view --group=devs --serviceaccount=proto:robot")]
    public async Task Cluster_scoped_kind_sent_as_protobuf_is_stored_as_its_json_form(string name, string command)
    {
        var (kind, protoName) = await CreateBothWaysAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, command, "from-proto").Split(' '), [], []);
        var (_, jsonName) = await CreateBothWaysAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, command, "from-json").Split(' '), [], [], protobuf: false);

        // The name shows up in generated values too (the namespace's kubernetes.io/metadata.name label).
        var viaProtobuf = JsonNode.Parse((await GetAsync(kind, protoName, null)).ToJsonString().Replace(protoName, "(name)", StringComparison.Ordinal));
        var viaJson = JsonNode.Parse((await GetAsync(kind, jsonName, null)).ToJsonString().Replace(jsonName, "(name)", StringComparison.Ordinal));

        Assert.True(JsonNode.DeepEquals(viaJson, viaProtobuf), $"{name}:\njson:     {viaJson!.ToJsonString()}\nprotobuf: {viaProtobuf!.ToJsonString()}");
    }

    [Fact]
    public async Task A_kind_the_sandbox_cannot_decode_is_refused_with_415_naming_it()
    {
        var result = await _kubectl.RunAsync("create", "poddisruptionbudget", "pdb", "--selector=app=web", "--min-available=1", "-n", "proto");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("cannot decode PodDisruptionBudget (policy/v1) from application/vnd.kubernetes.protobuf", result.Err);
        Assert.Equal(415, Server.Requests.Snapshot().Last(r => r.Verb == "create").StatusCode);
    }

    private string BinaryFile => Path.Combine(_kubectl.Directory, "blob.bin");

    /// <summary>Runs the command as is (protobuf) and as dry-run YAML applied with client-side apply (JSON); returns kind and name.</summary>
    private async Task<(string Kind, string Name)> CreateBothWaysAsync(string[] command, string[] protoScope, string[] jsonScope, bool protobuf = true)
    {
        if (protobuf)
        {
            var created = await _kubectl.RunAsync(["-v=8", .. protoScope, .. command]);
            Assert.True(created.ExitCode == 0, created.Err);
            Assert.Contains("Content-Type: application/vnd.kubernetes.protobuf", created.Err);
        }

        var yaml = await _kubectl.RunAsync([.. jsonScope, "-o", "yaml", "--dry-run=client", .. command]);
        Assert.True(yaml.ExitCode == 0, yaml.Err);
        var applied = await _kubectl.RunAsync(["apply", "-f", _kubectl.WriteFile("object.yaml", yaml.Out), .. jsonScope]);
        Assert.True(applied.ExitCode == 0, applied.Err);

        var kind = yaml.Out.Split('\n').First(l => l.StartsWith("kind: ", StringComparison.Ordinal))["kind: ".Length..].Trim();
        var name = yaml.Out.Split('\n').SkipWhile(l => l != "metadata:").First(l => l.StartsWith("  name: ", StringComparison.Ordinal))["  name: ".Length..].Trim();
        return (kind, name);
    }

    private async Task<JsonObject> GetAsync(string kind, string name, string? ns)
    {
        string[] scope = ns is null ? [] : ["-n", ns];
        var got = await _kubectl.RunAsync(["get", kind.ToLowerInvariant(), name, "-o", "json", .. scope]);
        Assert.True(got.ExitCode == 0, got.Err);
        var obj = JsonNode.Parse(got.Out)!.AsObject();
        var meta = obj["metadata"]!.AsObject();
        foreach (var serverSet in new[] { "uid", "resourceVersion", "creationTimestamp", "namespace", "name", "managedFields", "generation" })
        {
            meta.Remove(serverSet);
        }

        if (meta["annotations"] is JsonObject annotations)
        {
            annotations.Remove("kubectl.kubernetes.io/last-applied-configuration");
            if (annotations.Count == 0)
            {
                meta.Remove("annotations");
            }
        }

        if (obj["spec"] is JsonObject spec && kind == "Service")
        {
            // Allocated by the server, different for each object.
            spec.Remove("clusterIP");
            spec.Remove("clusterIPs");
        }

        if (obj["subjects"] is JsonArray subjects)
        {
            foreach (var subject in subjects.OfType<JsonObject>().Where(s => s["namespace"] is not null))
            {
                subject["namespace"] = "(namespace)";
            }
        }

        return obj;
    }
}
