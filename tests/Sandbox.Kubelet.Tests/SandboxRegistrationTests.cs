using System.Text.RegularExpressions;
using Greenhouse.Testing;

namespace Sandbox.Kubelet.Tests;

/// <summary>
/// <c>sandbox run</c> with <c>examples/sandbox/registration/globex.yaml</c> (spec.webhook.registration HarvestApi,
/// generated secret): the operator registers the webhooks in the Greenhouse simulator, the sandbox routes their
/// public URL to the receiver pod, and a rotation by annotation under continuous signed traffic increases
/// secretVersion, is adopted through the confirmed PATCH, and not one delivery is answered 401.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(WholeSandbox.Name)]
public sealed class SandboxRegistrationTests : WholeSandboxTest
{
    private static readonly HttpClient Http = SandboxProcess.Http;
    [Fact]
    public async Task A_rotation_under_continuous_traffic_is_patched_into_greenhouse_and_adopted_without_a_single_401()
    {
        Sandbox = await SandboxProcess.StartAsync("registration", ["--candidates", "20"]);
        var control = Sandbox.ControlUrl;
        var greenhouse = Sandbox.GreenhouseUrl;
        var manifests = string.Join("\n---\n", new[] { "00-namespace.yaml", "10-secrets.yaml", Path.Combine("registration", "globex.yaml") }
            .Select(f => File.ReadAllText(RepositoryPaths.Combine("examples", "sandbox", f))));
        var applied = await ExternalTool.RunAsync(ExternalTool.Kubectl, ["--kubeconfig", Sandbox.Kubeconfig, "apply", "-f", "-"], manifests.Replace("http://127.0.0.1:7470/", greenhouse, StringComparison.Ordinal));
        Assert.True(applied.ExitCode == 0, applied.ToString());

        // Ready includes the registration: the operator registered the 4 webhooks once the pod had loaded the secret.
        await Eventually.TrueAsync(
            async () => (await Sandbox.Kubectl("get", "ghi", "globex", "-n", "recruiting", "-o", "jsonpath={.status.conditions[?(@.type==\"WebhookSecretReady\")].reason}")).StandardOutput == "Registered",
            "the webhooks are registered in the simulator",
            TimeSpan.FromSeconds(120));
        var registrations = (await Sandbox.Kubectl("get", "ghi", "globex", "-n", "recruiting", "-o", "jsonpath={.status.webhook.registrations[*].eventType}")).StandardOutput;
        Assert.Equal("delete_candidate merge_candidate new_prospect_application update_candidate", registrations);
        Assert.Equal("1", (await Sandbox.Kubectl("get", "ghi", "globex", "-n", "recruiting", "-o", "jsonpath={.status.webhook.secretVersion}")).StandardOutput);

        // Continuous signed traffic from the simulator while the secret rotates.
        var candidate = Regex.Match(await Http.GetStringAsync(new Uri(control + "candidates")), @"""first"":\[(\d+)").Groups[1].Value;
        using var stopTraffic = new CancellationTokenSource();
        var sent = 0;
        var traffic = Task.Run(async () =>
        {
            while (!stopTraffic.IsCancellationRequested)
            {
                using (var update = await Http.PostAsync(new Uri($"{control}candidates/{candidate}/update?title=T{Interlocked.Increment(ref sent)}"), null))
                {
                    update.EnsureSuccessStatusCode();
                }

                await Task.Delay(200);
            }
        });
        await Eventually.TrueAsync(
            async () => DeliveredToRegisteredUrl(await Http.GetStringAsync(new Uri(control + "webhooks"))) >= 3,
            "deliveries to the registered URL arrive",
            TimeSpan.FromSeconds(30));

        var annotated = await Sandbox.Kubectl("annotate", "ghi", "globex", "-n", "recruiting", "greenhouse.resource.io/rotate=e2e-1", "--overwrite");
        Assert.True(annotated.ExitCode == 0, annotated.ToString());
        await Eventually.TrueAsync(
            async () => (await Sandbox.Kubectl("get", "ghi", "globex", "-n", "recruiting", "-o", "jsonpath={.status.webhook.secretVersion}")).StandardOutput == "2",
            "secretVersion 2 after the annotation",
            TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(
            async () => (await Sandbox.Kubectl("get", "ghi", "globex", "-n", "recruiting", "-o", "jsonpath={.status.webhook.adopted} {.status.webhook.registeredSecretVersion}")).StandardOutput == "true 2",
            "the new secret is PATCHed into Greenhouse and adopted",
            TimeSpan.FromSeconds(120));
        var afterAdoption = DeliveredToRegisteredUrl(await Http.GetStringAsync(new Uri(control + "webhooks")));
        await Eventually.TrueAsync(
            async () => DeliveredToRegisteredUrl(await Http.GetStringAsync(new Uri(control + "webhooks"))) >= afterAdoption + 3,
            "deliveries signed with the new secret arrive",
            TimeSpan.FromSeconds(30));
        await stopTraffic.CancelAsync();
        await traffic;

        var log = await Http.GetStringAsync(new Uri(control + "webhooks"));
        Assert.DoesNotContain("\"lastStatusCode\":401", log, StringComparison.Ordinal);
        Assert.True(DeliveredToRegisteredUrl(log) >= 6, log);
        Assert.Equal("Registered", (await Sandbox.Kubectl("get", "ghi", "globex", "-n", "recruiting", "-o", "jsonpath={.status.conditions[?(@.type==\"WebhookSecretReady\")].reason}")).StandardOutput);

        // Deleting the integration deletes the webhooks in Greenhouse first: new changes are sent nowhere.
        var deleted = await Sandbox.Kubectl("delete", "ghi", "globex", "-n", "recruiting", "--wait=true", "--timeout=60s");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        var deliveries = Regex.Count(await Http.GetStringAsync(new Uri(control + "webhooks")), "\"eventId\"");
        using (var update = await Http.PostAsync(new Uri($"{control}candidates/{candidate}/update?title=Gone"), null))
        {
            update.EnsureSuccessStatusCode();
        }

        Assert.Equal(deliveries, Regex.Count(await Http.GetStringAsync(new Uri(control + "webhooks")), "\"eventId\""));
    }

    private static int DeliveredToRegisteredUrl(string log) =>
        Regex.Count(log, @"""action"":""update_candidate"",""endpoint"":""https://hooks\.sandbox\.local/greenhouse/globex"",""state"":""Delivered""");
}
