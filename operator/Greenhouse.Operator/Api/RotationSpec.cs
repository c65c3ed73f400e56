using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record RotationSpec
{
    [Pattern("^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")]
    [Default("2160h")]
    [Description("How long a generated webhook secret is used before it is rotated (Go duration, e.g. 2160h).")]
    public string? Interval { get; init; }

    [Pattern("^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")]
    [Default("168h")]
    [Description("How long the previous secret is still accepted after a rotation, unless deliveries signed with the new one arrive first (Go duration).")]
    public string? GracePeriod { get; init; }
}
