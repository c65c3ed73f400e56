using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Greenhouse.Operator;
using k8s.Exceptions;
using Xunit;

namespace Greenhouse.Operator.Tests;

public sealed class KubeconfigTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ghi-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_current_context_gives_server_token_namespace_and_a_certificate_authority_relative_to_the_file()
    {
        // A CA file named relative to the kubeconfig, as kubectl resolves it.
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        using (var ca = new CertificateRequest("CN=test-ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1)))
        {
            File.WriteAllText(Path.Combine(_root, "ca.crt"), ca.ExportCertificatePem());
        }
        var path = Path.Combine(_root, "config");
        File.WriteAllText(path, """
            apiVersion: v1
            kind: Config
            preferences: {}
            clusters:
            - name: other
              cluster: {server: "https://10.0.0.1:6443"}
            - name: local
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority: ca.crt
                some-future-field: ignored
            contexts:
            - name: other
              context: {cluster: other, user: nobody}
            - name: operator
              context: {cluster: local, user: operator, namespace: greenhouse-system}
            current-context: operator
            users:
            - name: nobody
              user: {token: wrong}
            - name: operator
              user: {token: the-token}
            """);

        var config = Kubeconfig.Load(path);

        Assert.Equal("https://127.0.0.1:6443/", new Uri(config.Host).ToString());
        Assert.Equal("the-token", config.AccessToken);
        Assert.Equal("greenhouse-system", config.Namespace);
        Assert.NotNull(config.SslCaCerts);
        Assert.Equal("CN=test-ca", Assert.Single(config.SslCaCerts).Subject);
    }

    [Fact]
    public void A_missing_or_malformed_kubeconfig_is_a_kubeconfig_error_naming_the_file()
    {
        var missing = Path.Combine(_root, "missing");
        Assert.Contains(missing, Assert.Throws<KubeConfigException>(() => Kubeconfig.Load(missing)).Message, StringComparison.Ordinal);
        var malformed = Path.Combine(_root, "malformed");
        File.WriteAllText(malformed, "clusters: [unclosed");
        Assert.Contains(malformed, Assert.Throws<KubeConfigException>(() => Kubeconfig.Load(malformed)).Message, StringComparison.Ordinal);
        var empty = Path.Combine(_root, "empty");
        File.WriteAllText(empty, "");
        Assert.Throws<KubeConfigException>(() => Kubeconfig.Load(empty));
    }
}
