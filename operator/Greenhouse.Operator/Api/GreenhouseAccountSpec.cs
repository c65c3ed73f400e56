using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record GreenhouseAccountSpec
{
    [Pattern("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+greenhouse\\.io$")]
    [Description("Host of the Greenhouse web app used to build candidate profile links: app.greenhouse.io, app2.greenhouse.io or <company>.greenhouse.io.")]
    public string? SsoDomain { get; init; }

    [Format("email")]
    [Description("The account's maildrop address (Configure > Dev Center), surfaced to downstream senders so e-mails are logged on the candidate.")]
    public string? MaildropEmail { get; init; }
}
