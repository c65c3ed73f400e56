using System.Text.RegularExpressions;
using k8s;
using Greenhouse.Operator.Api;
using Greenhouse.Operator.Reconciliation;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>
/// Least privilege, proven: the operator runs a scenario that takes every code path that talks to the API
/// (create with every optional object, a referenced Secret read by name, Ready, removal of optional objects,
/// leader election, a health polling round), the verbs it sent are taken from the emulator's request log, and the chart's RBAC must
/// grant exactly those: nothing used may be missing, nothing granted may be unused unless an
/// "rbac-not-exercised:" comment right above the rule says why.
/// </summary>
public sealed partial class RbacTests
{
    private const string OperatorAgent = "greenhouse-operator-rbac-test";

    [Fact]
    public async Task The_chart_grants_exactly_the_verbs_the_operator_uses()
    {
        var used = await UsedPermissionsAsync();
        var rules = ChartRules();
        var granted = rules.SelectMany(r => r.Permissions.Select(p => (Permission: p, r.Justified))).ToList();

        var missing = used.Where(u => !granted.Any(g => g.Permission == u)).Order().ToList();
        var unused = granted.Where(g => !g.Justified && !used.Contains(g.Permission)).Select(g => g.Permission).Order().ToList();

        Assert.True(missing.Count == 0, "used but not granted by the chart: " + string.Join(", ", missing));
        Assert.True(unused.Count == 0, "granted but never used (remove, or say why in an rbac-not-exercised: comment): " + string.Join(", ", unused));
        Assert.DoesNotContain(granted, g => g.Permission == "core/persistentvolumeclaims:delete");
        Assert.Contains(granted, g => g.Permission == "greenhouse.resource.io/greenhouseintegrations/finalizers:update");
    }

    private static async Task<HashSet<string>> UsedPermissionsAsync()
    {
        await using var harness = await OperatorHarness.StartAsync();
        var ns = OperatorHarness.Namespace;
        // Created before any integration references them: cached without data, then read by name.
        await harness.CreateSecretAsync("acme-harvest", new Dictionary<string, string> { ["client_id"] = "id", ["client_secret"] = "secret" });
        await harness.CreateSecretAsync("acme-basic", new Dictionary<string, string> { ["username"] = "greenhouse", ["password"] = "s3cret" });
        await harness.StartOperatorAsync(OperatorHarness.Settings(leaderElection: true), userAgent: OperatorAgent);

        await harness.CreateIntegrationAsync("acme", new GreenhouseIntegrationSpec
        {
            Webhook = new WebhookSpec
            {
                Endpoint = "https://hooks.example.com/greenhouse/acme",
                BasicAuthSecretRef = new SecretReference { Name = "acme-basic" },
                Ingress = new IngressSpec { ClassName = "nginx", TlsSecretName = "hooks-tls" },
            },
            Harvest = new HarvestSpec { CredentialsSecretRef = new SecretReference { Name = "acme-harvest" }, SyncUserId = 4080 },
        });
        await Eventually.TrueAsync(async () => await harness.FindDeploymentAsync("acme-receiver") is not null, "the receiver exists");
        await harness.MarkDeploymentAvailableAsync("acme-receiver");
        await Eventually.TrueAsync(async () => (await harness.ReadyConditionAsync("acme"))?.Status == "True", "the integration is Ready");

        // Registration through Harvest: the finalizer is added (patch); no receiver reports a loaded secret, so nothing
        // is sent to Greenhouse. Back to Manual without Harvest: the finalizer is removed (patch) after a warning.
        await harness.CreateIntegrationAsync("beta", new GreenhouseIntegrationSpec
        {
            Webhook = new WebhookSpec { Endpoint = "https://hooks.example.com/greenhouse/beta", Registration = WebhookRegistrationMode.HarvestApi },
            Harvest = new HarvestSpec { CredentialsSecretRef = new SecretReference { Name = "acme-harvest" }, SyncUserId = 4080 },
        });
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("beta")).Metadata.Finalizers?.Contains(WebhookRegistrationMode.Finalizer) == true, "the registration finalizer is added");
        await harness.PatchAsync("beta", """{"spec":{"harvest":null,"webhook":{"registration":"Manual"}}}""");
        await Eventually.TrueAsync(async () => (await harness.GetIntegrationAsync("beta")).Metadata.Finalizers is not { Count: > 0 }, "the registration finalizer is removed");

        await harness.PatchAsync("acme", """{"spec":{"harvest":null,"webhook":{"ingress":null}}}""");
        await Eventually.TrueAsync(
            async () => (await harness.Client.NetworkingV1.ListNamespacedIngressAsync(ns)).Items.Count == 0
                && (await harness.Client.CoreV1.ListNamespacedSecretAsync(ns, fieldSelector: $"metadata.name={ReceiverNames.HarvestSecret("acme")}")).Items.Count == 0,
            "the optional objects are deleted");
        // Receiver health polling (a round within a second of leading, then every HealthPollInterval) lists the receiver pods.
        await Eventually.TrueAsync(
            () => harness.Api.Requests.Snapshot().Any(r => r.UserAgent == OperatorAgent && r.Resource == "pods" && r.Verb == "list"),
            "a health polling round has listed the receiver pods");

        return [.. harness.Api.Requests.Snapshot()
            .Where(r => r.UserAgent == OperatorAgent && r.Resource is not null)
            .Select(r => Permission(r.Group ?? "", r.Subresource is null ? r.Resource! : $"{r.Resource}/{r.Subresource}", r.Verb))];
    }

    private static string Permission(string group, string resource, string verb) => $"{(group.Length == 0 ? "core" : group)}/{resource}:{verb}";

    /// <summary>The rules of the chart's RBAC templates, each with whether a comment justifies unused grants.</summary>
    private static List<(List<string> Permissions, bool Justified)> ChartRules()
    {
        var rules = new List<(List<string>, bool)>();
        foreach (var file in new[] { "clusterrole.yaml", "rolebindings.yaml" })
        {
            var lines = File.ReadAllLines(RepositoryPaths.Combine("charts", "greenhouse-operator", "templates", file));
            for (var i = 0; i < lines.Length; i++)
            {
                if (!lines[i].TrimStart().StartsWith("- apiGroups:", StringComparison.Ordinal))
                {
                    continue;
                }

                var justified = false;
                for (var j = i - 1; j >= 0 && lines[j].TrimStart().StartsWith('#'); j--)
                {
                    justified |= lines[j].Contains("rbac-not-exercised:", StringComparison.Ordinal);
                }

                var groups = FlowList(lines[i]);
                var resources = FlowList(lines[i + 1]);
                var verbs = FlowList(lines[i + 2]);
                rules.Add(([.. from g in groups from r in resources from v in verbs select Permission(g, r, v)], justified));
            }
        }

        return rules;
    }

    private static List<string> FlowList(string line)
    {
        var match = FlowListPattern().Match(line);
        Assert.True(match.Success, $"not a one-line flow list: {line}");
        return [.. match.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => v.Trim('"'))];
    }

    [GeneratedRegex(@"\[(.*)\]")]
    private static partial Regex FlowListPattern();
}
