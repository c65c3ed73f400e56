using Greenhouse.Operator.Api;
using Greenhouse.Operator.Configuration;
using Greenhouse.Operator.Reconciliation;

namespace Greenhouse.Operator.Tests.Reconciliation;

/// <summary>What a namespace user may not make the operator do through the spec.</summary>
public sealed class SpecPolicyTests
{
    private static readonly OperatorSettings Settings = new()
    {
        ReceiverImage = "ghcr.io/example/greenhouse-receiver:1.0.0",
        IngressAnnotationAllowList = ["nginx.ingress.kubernetes.io/limit-rps", "cert-manager.io/*"],
    };

    private static GreenhouseIntegrationSpec Spec(IDictionary<string, string>? annotations = null, string? baseUrl = null, string? tokenUrl = null, string? image = null) => new()
    {
        Webhook = new WebhookSpec
        {
            Endpoint = "https://hooks.example.com/gh",
            Ingress = annotations is null ? null : new IngressSpec { Annotations = annotations },
        },
        Harvest = baseUrl is null && tokenUrl is null ? null : new HarvestSpec
        {
            CredentialsSecretRef = new SecretReference { Name = "h" },
            SyncUserId = 1,
            BaseUrl = baseUrl,
            TokenUrl = tokenUrl,
        },
        Receiver = image is null ? null : new ReceiverSpec { Image = image },
    };

    [Fact]
    public void Allowed_annotations_pass_and_a_snippet_annotation_stops_the_integration()
    {
        Assert.Null(SpecPolicy.Check(Spec(new Dictionary<string, string>
        {
            ["nginx.ingress.kubernetes.io/limit-rps"] = "20",
            ["cert-manager.io/cluster-issuer"] = "letsencrypt",
        }), Settings));

        var problem = SpecPolicy.Check(Spec(new Dictionary<string, string>
        {
            ["nginx.ingress.kubernetes.io/limit-rps"] = "20",
            ["nginx.ingress.kubernetes.io/configuration-snippet"] = "more_set_headers \"X: y\";",
        }), Settings);
        Assert.Equal(ConditionReasons.IngressAnnotationNotAllowed, problem?.Reason);
        Assert.Contains("nginx.ingress.kubernetes.io/configuration-snippet", problem!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("more_set_headers", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_an_empty_allow_list_no_annotation_is_allowed() =>
        Assert.Equal(ConditionReasons.IngressAnnotationNotAllowed,
            SpecPolicy.Check(Spec(new Dictionary<string, string> { ["nginx.ingress.kubernetes.io/limit-rps"] = "20" }), Settings with { IngressAnnotationAllowList = [] })?.Reason);

    [Theory]
    [InlineData("https://harvest.greenhouse.io/v3", true)]
    [InlineData("http://127.0.0.1:7470/v3", true)]
    [InlineData("http://localhost:7470/v3", true)]
    [InlineData("http://[::1]:7470/v3", true)]
    [InlineData("http://harvest.greenhouse.io/v3", false)]
    [InlineData("http://10.0.0.5/v3", false)]
    [InlineData("http://127.0.0.1.evil.example/v3", false)]
    [InlineData("ftp://harvest.greenhouse.io/v3", false)]
    public void Harvest_urls_must_be_https_except_for_loopback(string url, bool allowed)
    {
        Assert.Equal(allowed, SpecPolicy.IsSecureUrl(url));
        Assert.Equal(allowed ? null : ConditionReasons.InsecureUrl, SpecPolicy.Check(Spec(baseUrl: url), Settings)?.Reason);
        Assert.Equal(allowed ? null : ConditionReasons.InsecureUrl, SpecPolicy.Check(Spec(tokenUrl: url), Settings)?.Reason);
    }

    [Theory]
    [InlineData("ghcr.io/example/greenhouse-receiver:1.1.0", null, true)]
    [InlineData("ghcr.io/example/greenhouse-receiver@sha256:0123", null, true)]
    [InlineData("ghcr.io/example/greenhouse-receiver-evil:1.0.0", null, false)]
    [InlineData("docker.io/attacker/receiver:latest", null, false)]
    [InlineData("registry.example/team/receiver:2.1.0", "registry.example/", true)]
    [InlineData("registry.example.evil/receiver:2.1.0", "registry.example", false)]
    [InlineData("ghcr.io/example/greenhouse-receiver:1.1.0", "registry.example/", false)]
    public void Receiver_image_must_come_from_an_allowed_prefix(string image, string? prefix, bool allowed)
    {
        var settings = prefix is null ? Settings : Settings with { AllowedImagePrefixes = [prefix] };
        Assert.Equal(allowed, SpecPolicy.ImageAllowed(image, settings));
        Assert.Equal(allowed ? null : ConditionReasons.ImageNotAllowed, SpecPolicy.Check(Spec(image: image), settings)?.Reason);
    }

    [Fact]
    public void User_supplied_webhook_secrets_need_32_bytes()
    {
        Assert.Null(SpecPolicy.CheckWebhookSecret("acme-webhook", "secret_key", 32));
        var problem = SpecPolicy.CheckWebhookSecret("acme-webhook", "secret_key", 8);
        Assert.Equal(ConditionReasons.WebhookSecretTooShort, problem?.Reason);
        Assert.Contains("acme-webhook", problem!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_through_harvest_needs_spec_harvest()
    {
        var withoutHarvest = Spec() with { Webhook = Spec().Webhook with { Registration = WebhookRegistrationMode.HarvestApi } };
        var withHarvest = Spec(baseUrl: "https://harvest.greenhouse.io/v3") with { Webhook = Spec().Webhook with { Registration = WebhookRegistrationMode.HarvestApi } };

        var problem = SpecPolicy.Check(withoutHarvest, Settings);

        Assert.Equal(ConditionReasons.InvalidSpec, problem?.Reason);
        Assert.Contains("spec.harvest", problem!.Message, StringComparison.Ordinal);
        Assert.Null(SpecPolicy.Check(withHarvest, Settings));
    }
}
