using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.KubeApi.Protobuf;

namespace Sandbox.KubeApi.Tests;

/// <summary>The protobuf decoder on bodies encoded by hand, field number by field number, as k8s.io/api's Go marshallers write them.</summary>
public sealed class ProtobufDecoderTests : EmulatorTest
{
    [Fact]
    public void Pod_metadata_containers_env_ports_and_resources_decode_to_the_json_kubectl_would_send()
    {
        var owner = Msg(S(1, "ReplicaSet"), S(3, "web-1"), S(4, "uid-1"), S(5, "apps/v1"), V(6, 1), V(7, 1));
        var meta = Msg(S(1, ""), S(2, "web-"), S(3, ""), Empty(8), V(7, 0), Entry(11, "app", "web"), Entry(12, "note", "n"), M(13, owner), S(14, "example.com/cleanup"));
        var container = Msg(
            S(1, "app"), S(2, "busybox"), S(3, "/bin/sh"), S(3, "-c"), S(4, "echo hi"), S(5, ""),
            M(6, Msg(S(1, "http"), V(2, 0), V(3, 8080), S(4, "TCP"), S(5, ""))),
            M(7, Msg(S(1, "MODE"), S(2, "fast"))),
            M(7, Msg(S(1, "TOKEN"), S(2, ""), M(3, Msg(M(4, Msg(M(1, Msg(S(1, "creds"))), S(2, "token"))))))),
            M(8, Msg(M(1, Msg(S(1, "memory"), M(2, Msg(S(1, "128Mi"))))), M(2, Msg(S(1, "cpu"), M(2, Msg(S(1, "100m"))))))),
            S(13, ""), S(14, "IfNotPresent"), V(16, 0), V(17, 0), V(18, 0), S(20, ""));
        var spec = Msg(M(2, container), S(3, "Never"), S(6, "ClusterFirst"), V(11, 0), V(4, 0), S(19, ""));
        var body = Envelope("v1", "Pod", Msg(M(1, meta), M(2, spec), M(3, Msg(S(1, ""), S(3, "")))));

        var json = KubeProtobuf.Decode(body);

        var expected = JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Pod",
             "metadata":{"generateName":"web-","labels":{"app":"web"},"annotations":{"note":"n"},
               "ownerReferences":[{"kind":"ReplicaSet","name":"web-1","uid":"uid-1","apiVersion":"apps/v1","controller":true,"blockOwnerDeletion":true}],
               "finalizers":["example.com/cleanup"]},
             "spec":{"containers":[{"name":"app","image":"busybox","command":["/bin/sh","-c"],"args":["echo hi"],
               "ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],
               "env":[{"name":"MODE","value":"fast"},{"name":"TOKEN","valueFrom":{"secretKeyRef":{"name":"creds","key":"token"}}}],
               "resources":{"limits":{"memory":"128Mi"},"requests":{"cpu":"100m"}},"imagePullPolicy":"IfNotPresent"}],
               "restartPolicy":"Never","dnsPolicy":"ClusterFirst","terminationGracePeriodSeconds":0},
             "status":{}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, json), json.ToJsonString());
    }

    [Fact]
    public void Service_target_port_is_an_int_or_a_string_and_deployment_pointers_keep_zero()
    {
        var service = KubeProtobuf.Decode(Envelope("v1", "Service", Msg(
            M(1, Msg(S(1, "web"))),
            M(2, Msg(
                M(1, Msg(S(1, "a"), S(2, "TCP"), V(3, 80), M(4, Msg(V(1, 0), V(2, 8080), S(3, ""))), V(5, 0))),
                M(1, Msg(S(1, "b"), S(2, "TCP"), V(3, 443), M(4, Msg(V(1, 1), V(2, 0), S(3, "https"))), V(5, 30443))),
                Entry(2, "app", "web"), S(3, "None"), S(4, "NodePort"), V(12, 0), V(13, 0))))));
        var strategy = Msg(S(1, "RollingUpdate"), M(2, Msg(M(1, Msg(V(1, 0), V(2, 0))), M(2, Msg(V(1, 1), S(3, "25%"))))));
        var deployment = KubeProtobuf.Decode(Envelope("apps/v1", "Deployment", Msg(M(1, Msg(S(1, "web"))), M(2, Msg(V(1, 0), V(5, 0), V(7, 0), M(4, strategy))))));

        Assert.Equal(
            """{"ports":[{"name":"a","protocol":"TCP","port":80,"targetPort":8080},{"name":"b","protocol":"TCP","port":443,"targetPort":"https","nodePort":30443}],"selector":{"app":"web"},"clusterIP":"None","type":"NodePort"}""",
            service["spec"]!.ToJsonString());
        Assert.Equal(
            """{"replicas":0,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"25%"}}}""",
            deployment["spec"]!.ToJsonString());
    }

    [Fact]
    public void Secret_data_is_base64_and_string_data_stays_text()
    {
        var secret = KubeProtobuf.Decode(Envelope("v1", "Secret", Msg(
            M(1, Msg(S(1, "s"))), M(2, Msg(S(1, "bin"), B(2, [0, 0xff]))), S(3, "Opaque"), Entry(4, "plain", "text"))));

        Assert.Equal("""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"bin":"AP8="},"type":"Opaque","stringData":{"plain":"text"}}""", secret.ToJsonString());
    }

    [Fact]
    public void An_unknown_field_is_refused_with_415_naming_the_message_and_path_not_dropped()
    {
        var body = Envelope("v1", "Pod", Msg(M(1, Msg(S(1, "p"))), M(2, Msg(M(2, Msg(S(1, "c"), V(10, 1)))))));

        var ex = Assert.Throws<ApiException>(() => KubeProtobuf.Decode(body));

        Assert.Equal(415, ex.Code);
        Assert.Contains("field 10 of io.k8s.api.core.v1.Container (in Pod.spec.containers)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_kind_is_refused_with_415_naming_it_and_a_truncated_body_is_a_bad_request()
    {
        var unknown = Assert.Throws<ApiException>(() => KubeProtobuf.Decode(Envelope("storage.k8s.io/v1", "StorageClass", Msg(M(1, Msg(S(1, "fast")))))));
        var full = Envelope("v1", "ConfigMap", Msg(M(1, Msg(S(1, "c"))), Entry(2, "a", "b")));
        var truncated = Assert.Throws<ApiException>(() => KubeProtobuf.Decode(full.AsMemory(0, full.Length - 3)));

        Assert.Equal(415, unknown.Code);
        Assert.Contains("cannot decode StorageClass (storage.k8s.io/v1)", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(400, truncated.Code);
        Assert.StartsWith("error decoding protobuf request body: truncated", truncated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_protobuf_pod_posted_to_the_server_is_stored_and_answered_in_json()
    {
        var container = Msg(S(1, "app"), S(2, "busybox"), S(4, "--verbose"));
        var body = Envelope("v1", "Pod", Msg(M(1, Msg(S(1, "p"), Entry(11, "run", "p"))), M(2, Msg(M(2, container), S(3, "Always")))));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/default/pods") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/vnd.kubernetes.protobuf");
        request.Headers.TryAddWithoutValidation("Accept", "application/vnd.kubernetes.protobuf, */*");

        using var response = await Http.SendAsync(request);
        var created = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var (_, stored) = await Http.GetJsonAsync("/api/v1/namespaces/default/pods/p");

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("p", (string?)created["metadata"]!["labels"]!["run"]);
        Assert.Equal("""["--verbose"]""", stored!["spec"]!["containers"]![0]!["args"]!.ToJsonString());
        Assert.Equal("Always", (string?)stored["spec"]!["restartPolicy"]);
    }

    // ---- a minimal protobuf writer, to encode test bodies field by field ----

    private static byte[] Envelope(string apiVersion, string kind, byte[] raw) =>
        [.. "k8s\0"u8, .. Msg(M(1, Msg(S(1, apiVersion), S(2, kind))), B(2, raw), S(3, ""), S(4, ""))];

    private static byte[] Msg(params byte[][] fields) => [.. fields.SelectMany(f => f)];

    private static byte[] S(int field, string value) => B(field, Encoding.UTF8.GetBytes(value));

    private static byte[] M(int field, byte[] message) => B(field, message);

    private static byte[] Empty(int field) => B(field, []);

    private static byte[] Entry(int field, string key, string value) => M(field, Msg(S(1, key), S(2, value)));

    private static byte[] B(int field, byte[] value) => [.. Varint((ulong)field << 3 | 2), .. Varint((ulong)value.Length), .. value];

    private static byte[] V(int field, long value) => [.. Varint((ulong)field << 3), .. Varint((ulong)value)];

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }
}
