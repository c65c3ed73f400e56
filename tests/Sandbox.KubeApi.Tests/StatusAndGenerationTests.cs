using System.Text.Json.Nodes;

namespace Sandbox.KubeApi.Tests;

/// <summary>Scenarios 6 and 7: status subresource rules and generation bumping.</summary>
public sealed class StatusAndGenerationTests : EmulatorTest
{
    private const string Widgets = "/apis/example.com/v1/namespaces/default/widgets";
    private const string Gadgets = "/apis/example.com/v1/namespaces/default/gadgets";

    protected override async Task ArrangeAsync()
    {
        await Crds.InstallAsync(Http, Crds.Widget());
        await Crds.InstallAsync(Http, Crds.Widget(withStatus: false, plural: "gadgets", kind: "Gadget"));
    }

    [Fact]
    public async Task Create_drops_status_when_the_crd_has_a_status_subresource()
    {
        var w = Crds.WidgetObject("w");
        w["status"] = new JsonObject { ["phase"] = "Ready" };

        var (code, body) = await Http.PostJsonAsync(Widgets, w);

        Assert.Equal(201, code);
        Assert.Null(body!["status"]);
        Assert.Equal(1, (int?)body["metadata"]!["generation"]);
    }

    [Fact]
    public async Task Main_resource_put_ignores_status_and_spec_change_bumps_generation()
    {
        var (_, created) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("w"));
        var withStatus = created!.DeepClone();
        withStatus["status"] = new JsonObject { ["phase"] = "Ready" };

        var (_, afterStatusEdit) = await Http.PutJsonAsync(Widgets + "/w", withStatus);
        var specEdit = afterStatusEdit!.DeepClone();
        specEdit["spec"]!["size"] = 5;
        var (_, afterSpecEdit) = await Http.PutJsonAsync(Widgets + "/w", specEdit);

        Assert.Null(afterStatusEdit["status"]);
        Assert.Equal(1, (int?)afterStatusEdit["metadata"]!["generation"]);
        Assert.Equal((string?)created["metadata"]!["resourceVersion"], (string?)afterStatusEdit["metadata"]!["resourceVersion"]);
        Assert.Equal(2, (int?)afterSpecEdit!["metadata"]!["generation"]);
    }

    [Fact]
    public async Task Status_put_takes_only_status_keeps_labels_and_does_not_bump_generation()
    {
        var (_, created) = await Http.PostJsonAsync(Widgets, Crds.WidgetObject("w"));
        var edit = created!.DeepClone();
        edit["status"] = new JsonObject { ["phase"] = "Ready" };
        edit["metadata"]!["labels"] = new JsonObject { ["x"] = "y" };
        edit["spec"]!["size"] = 9;

        var (code, body) = await Http.PutJsonAsync(Widgets + "/w/status", edit);
        var stale = created.DeepClone();
        stale["status"] = new JsonObject { ["phase"] = "Old" };
        var (staleCode, _) = await Http.PutJsonAsync(Widgets + "/w/status", stale);

        Assert.Equal(200, code);
        Assert.Equal("Ready", (string?)body!["status"]!["phase"]);
        Assert.Null(body["metadata"]!["labels"]);
        Assert.Equal(3, (int?)body["spec"]!["size"]);
        Assert.Equal(1, (int?)body["metadata"]!["generation"]);
        Assert.Equal(409, staleCode);
    }

    [Fact]
    public async Task Status_subresource_is_404_when_the_crd_does_not_declare_it_and_status_edits_then_bump_generation()
    {
        var (_, created) = await Http.PostJsonAsync(Gadgets, Crds.WidgetObject("g", kind: "Gadget"));
        var edit = created!.DeepClone();
        edit["status"] = new JsonObject { ["phase"] = "Ready" };

        var (subCode, _) = await Http.PutJsonAsync(Gadgets + "/g/status", edit);
        var (code, body) = await Http.PutJsonAsync(Gadgets + "/g", edit);

        Assert.Equal(404, subCode);
        Assert.Equal(200, code);
        Assert.Equal("Ready", (string?)body!["status"]!["phase"]);
        Assert.Equal(2, (int?)body["metadata"]!["generation"]);
    }

    [Fact]
    public async Task Deployment_annotation_edit_bumps_generation_but_label_edit_does_not_and_status_write_keeps_spec()
    {
        var (_, created) = await Http.PostJsonAsync("/apis/apps/v1/namespaces/default/deployments", Workloads.Deployment("web"));
        var labels = created!.DeepClone();
        labels["metadata"]!["labels"] = new JsonObject { ["team"] = "a" };
        var (_, afterLabels) = await Http.PutJsonAsync("/apis/apps/v1/namespaces/default/deployments/web", labels);
        var annotations = afterLabels!.DeepClone();
        annotations["metadata"]!["annotations"] = new JsonObject { ["note"] = "x" };
        var (_, afterAnnotations) = await Http.PutJsonAsync("/apis/apps/v1/namespaces/default/deployments/web", annotations);
        var status = afterAnnotations!.DeepClone();
        status["status"] = Workloads.AvailableStatus(2);
        status["spec"]!["replicas"] = 7;
        var (statusCode, afterStatus) = await Http.PutJsonAsync("/apis/apps/v1/namespaces/default/deployments/web/status", status);

        Assert.Equal(1, (int?)afterLabels["metadata"]!["generation"]);
        Assert.Equal(2, (int?)afterAnnotations["metadata"]!["generation"]);
        Assert.Equal(200, statusCode);
        Assert.Equal(2, (int?)afterStatus!["metadata"]!["generation"]);
        Assert.Equal(2, (int?)afterStatus["spec"]!["replicas"]);
        Assert.Equal("True", (string?)afterStatus["status"]!["conditions"]![0]!["status"]);
    }

    [Fact]
    public async Task Deployment_create_appliesServer_defaults_and_resets_status()
    {
        var d = Workloads.Deployment("web");
        d["status"] = Workloads.AvailableStatus(2);

        var (_, body) = await Http.PostJsonAsync("/apis/apps/v1/namespaces/default/deployments", d);

        Assert.Equal("RollingUpdate", (string?)body!["spec"]!["strategy"]!["type"]);
        Assert.Equal(10, (int?)body["spec"]!["revisionHistoryLimit"]);
        Assert.Equal(600, (int?)body["spec"]!["progressDeadlineSeconds"]);
        Assert.Equal("Always", (string?)body["spec"]!["template"]!["spec"]!["restartPolicy"]);
        Assert.Equal("IfNotPresent", (string?)body["spec"]!["template"]!["spec"]!["containers"]![0]!["imagePullPolicy"]);
        Assert.Equal("TCP", (string?)body["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["protocol"]);
        Assert.Empty(body["status"]!.AsObject());
    }

    [Fact]
    public async Task Scale_subresource_reads_and_writes_replicas_of_the_parent()
    {
        await Http.PostJsonAsync("/apis/apps/v1/namespaces/default/deployments", Workloads.Deployment("web"));

        var (getCode, scale) = await Http.GetJsonAsync("/apis/apps/v1/namespaces/default/deployments/web/scale");
        scale!["spec"]!["replicas"] = 5;
        var (putCode, _) = await Http.PutJsonAsync("/apis/apps/v1/namespaces/default/deployments/web/scale", scale);
        var (_, parent) = await Http.GetJsonAsync("/apis/apps/v1/namespaces/default/deployments/web");

        Assert.Equal(200, getCode);
        Assert.Equal("Scale", (string?)scale["kind"]);
        Assert.Equal("app=web", (string?)scale["status"]!["selector"]);
        Assert.Equal(200, putCode);
        Assert.Equal(5, (int?)parent!["spec"]!["replicas"]);
        Assert.Equal(2, (int?)parent["metadata"]!["generation"]);
    }
}
