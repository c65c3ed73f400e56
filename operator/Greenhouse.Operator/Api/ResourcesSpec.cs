using ControllerRuntime.Schema;
using k8s.Models;

namespace Greenhouse.Operator.Api;

public sealed record ResourcesSpec
{
    [Description("Requested resources (cpu, memory). Default: cpu 50m, memory 128Mi.")]
    public IDictionary<string, ResourceQuantity>? Requests { get; init; }

    [Description("Resource limits (cpu, memory). Default: memory 512Mi, no cpu limit.")]
    public IDictionary<string, ResourceQuantity>? Limits { get; init; }
}
