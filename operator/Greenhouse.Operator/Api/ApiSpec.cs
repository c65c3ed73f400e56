using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record ApiSpec
{
    [Description("ServiceAccounts allowed to call the receiver's gRPC and JSON APIs, with what they may do. Callers present a token of the ServiceAccount for the receiver's audience (shown in status and docs/security.md). Empty: nobody.")]
    public IList<ApiClientSpec>? Clients { get; init; }
}
