using ControllerRuntime;
using k8s.Models;

namespace ControllerRuntime.Tests;

public sealed class ObjectComparisonTests
{
    [Fact]
    public void Fields_only_the_server_or_others_set_do_not_count_as_a_difference()
    {
        var desired = Service(port: 8080);
        var observed = Service(port: 8080);
        observed.Metadata.ResourceVersion = "42";
        observed.Metadata.Annotations = new Dictionary<string, string> { ["someone-else"] = "x" };
        observed.Spec.ClusterIP = "10.96.0.10";
        observed.Spec.Ports[0].TargetPort = 8080;
        observed.Spec.SessionAffinity = "None";

        Assert.True(ObjectComparison.HasAllFieldsOf(observed, desired));
    }

    [Fact]
    public void A_changed_owned_field_is_a_difference()
    {
        Assert.False(ObjectComparison.HasAllFieldsOf(Service(port: 9090), Service(port: 8080)));
    }

    [Fact]
    public void A_list_with_an_extra_element_is_a_difference()
    {
        var observed = Service(port: 8080);
        observed.Spec.Ports.Add(new V1ServicePort { Name = "extra", Port = 1 });

        Assert.False(ObjectComparison.HasAllFieldsOf(observed, Service(port: 8080)));
    }

    [Fact]
    public void A_missing_label_is_a_difference()
    {
        var observed = Service(port: 8080);
        observed.Metadata.Labels.Remove("app");

        Assert.False(ObjectComparison.HasAllFieldsOf(observed, Service(port: 8080)));
    }

    private static V1Service Service(int port) => new()
    {
        Metadata = new V1ObjectMeta { Name = "svc", NamespaceProperty = "ns", Labels = new Dictionary<string, string> { ["app"] = "x" } },
        Spec = new V1ServiceSpec { Type = "ClusterIP", Ports = [new V1ServicePort { Name = "web", Port = port }] },
    };
}
