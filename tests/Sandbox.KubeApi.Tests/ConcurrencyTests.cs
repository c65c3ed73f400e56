using System.Globalization;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Optimistic concurrency under parallel writers, and dry runs.</summary>
public sealed class ConcurrencyTests : EmulatorTest
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    [Fact]
    public async Task Parallel_read_modify_write_with_conflict_retries_loses_no_increment_and_watch_sees_increasing_versions()
    {
        await Http.PostJsonAsync(ConfigMaps, new JsonObject { ["metadata"] = new JsonObject { ["name"] = "counter" }, ["data"] = new JsonObject { ["n"] = "0" } });
        using var watchResponse = await Http.GetAsync(ConfigMaps + "?watch=true", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await watchResponse.Content.ReadAsStreamAsync());

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            using var http = TestClients.Http(Server);
            for (var i = 0; i < 25; i++)
            {
                while (true)
                {
                    var (_, current) = await http.GetJsonAsync(ConfigMaps + "/counter");
                    var n = int.Parse((string)current!["data"]!["n"]!, CultureInfo.InvariantCulture);
                    current["data"]!["n"] = (n + 1).ToString(CultureInfo.InvariantCulture);
                    var (code, _) = await http.PutJsonAsync(ConfigMaps + "/counter", current);
                    if (code == 200)
                    {
                        break;
                    }

                    Assert.Equal(409, code);
                }
            }
        })));

        var (_, final) = await Http.GetJsonAsync(ConfigMaps + "/counter");
        Assert.Equal("100", (string?)final!["data"]!["n"]);
        var versions = new List<long>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (versions.Count < 101)
        {
            var line = await reader.ReadLineAsync(cts.Token);
            versions.Add(long.Parse((string)JsonNode.Parse(line!)!["object"]!["metadata"]!["resourceVersion"]!, CultureInfo.InvariantCulture));
        }

        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Count, versions.Distinct().Count());
    }

    [Fact]
    public async Task Dry_run_validates_and_answers_but_stores_nothing()
    {
        var before = Server.CurrentResourceVersion;

        var (createCode, created) = await Http.PostJsonAsync(ConfigMaps + "?dryRun=All", TestClients.ConfigMap("dry"));
        var (invalidCode, _) = await Http.PostJsonAsync(ConfigMaps + "?dryRun=All", TestClients.ConfigMap("Not_Valid"));
        var (getCode, _) = await Http.GetJsonAsync(ConfigMaps + "/dry");

        Assert.Equal(201, createCode);
        Assert.Equal("dry", (string?)created!["metadata"]!["name"]);
        Assert.Equal(422, invalidCode);
        Assert.Equal(404, getCode);
        Assert.Equal(before, Server.CurrentResourceVersion);
    }
}
