using Greenhouse.Operator.Api;
using Greenhouse.Operator.Reconciliation;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>The operator's security rules against the emulated API server: conditions a user sees, and what the receiver is given.</summary>
public sealed class SecurityIntegrationTests
{
    private static GreenhouseIntegrationSpec Spec() => new()
    {
        Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/acme" },
    };

    [Fact]
    public async Task Short_user_webhook_secret_stops_the_integration_with_WebhookSecretTooShort_until_it_is_long_enough()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateSecretAsync("acme-webhook", new Dictionary<string, string> { ["secret_key"] = "short" });
        await harness.CreateIntegrationAsync("acme", Spec() with
        {
            Webhook = Spec().Webhook with { SecretRef = new SecretKeyReference { Name = "acme-webhook", Key = "secret_key" } },
        });

        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Reason == ConditionReasons.WebhookSecretTooShort, "Ready says the secret is too short");
        Assert.Null(await harness.FindDeploymentAsync("acme-receiver"));

        await harness.Client.CoreV1.DeleteNamespacedSecretAsync("acme-webhook", OperatorHarness.Namespace);
        await harness.CreateSecretAsync("acme-webhook", new Dictionary<string, string> { ["secret_key"] = new string('k', 32) });
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the receiver is created once the secret is long enough");
    }

    [Fact]
    public async Task Ingress_annotation_outside_the_allow_list_stops_the_integration()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", Spec() with
        {
            Webhook = Spec().Webhook with
            {
                Ingress = new IngressSpec { Annotations = new Dictionary<string, string> { ["nginx.ingress.kubernetes.io/server-snippet"] = "location / { }" } },
            },
        });

        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Reason == ConditionReasons.IngressAnnotationNotAllowed, "Ready names the annotation");
        Assert.Empty((await harness.Client.NetworkingV1.ListNamespacedIngressAsync(OperatorHarness.Namespace)).Items);
    }

    [Fact]
    public async Task Plain_http_harvest_url_to_a_remote_host_is_refused_by_the_crd_schema()
    {
        await using var harness = await OperatorHarness.StartAsync();
        var integration = new GreenhouseIntegration
        {
            Metadata = new V1ObjectMeta { Name = "cleartext", NamespaceProperty = OperatorHarness.Namespace },
            Spec = Spec() with { Harvest = new HarvestSpec { CredentialsSecretRef = new SecretReference { Name = "h" }, SyncUserId = 1, TokenUrl = "http://auth.example.com/token" } },
        };

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => harness.Client.CustomObjects.CreateNamespacedCustomObjectAsync(
            integration, GreenhouseIntegration.Group, GreenhouseIntegration.Version, OperatorHarness.Namespace, GreenhouseIntegration.Plural));
        Assert.Equal(422, (int)error.Response.StatusCode);
        Assert.Contains("spec.harvest.tokenUrl", error.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_clients_reach_the_receiver_settings_and_the_receiver_runs_as_its_own_service_account()
    {
        await using var harness = await OperatorHarness.StartAsync();
        await harness.StartOperatorAsync();
        await harness.CreateIntegrationAsync("acme", Spec() with
        {
            Api = new ApiSpec { Clients = [new ApiClientSpec { ServiceAccount = new ServiceAccountReference { Namespace = "crm", Name = "crm-sync" }, Scopes = ["read", "watch"] }] },
        });
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the Deployment exists");

        var configMap = (await harness.FindConfigMapAsync("acme-receiver"))!;
        Assert.Equal("KubernetesServiceAccount", configMap.Data["Api__Auth__Mode"]);
        Assert.Equal($"greenhouse-receiver/{OperatorHarness.Namespace}/acme", configMap.Data["Api__Auth__Audience"]);
        Assert.Equal("crm", configMap.Data["Api__Clients__0__ServiceAccount__Namespace"]);
        Assert.Equal("crm-sync", configMap.Data["Api__Clients__0__ServiceAccount__Name"]);
        Assert.Equal("read,watch", configMap.Data["Api__Clients__0__Scopes"]);
        var account = await harness.Client.CoreV1.ReadNamespacedServiceAccountAsync("acme-receiver", OperatorHarness.Namespace);
        Assert.Equal("acme", account.Metadata.OwnerReferences.Single().Name);
        var pod = (await harness.FindDeploymentAsync("acme-receiver"))!.Spec.Template.Spec;
        Assert.Equal("acme-receiver", pod.ServiceAccountName);
    }
}
