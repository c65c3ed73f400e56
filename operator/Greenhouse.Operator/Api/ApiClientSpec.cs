using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record ApiClientSpec
{
    [Required]
    [Description("The ServiceAccount whose tokens identify this client.")]
    public ServiceAccountReference ServiceAccount { get; init; } = new();

    [Required]
    [MinItems(1)]
    [AllowedValues("read", "watch", "writeback")]
    [Description("read: Get, Lookup, List and SyncHealth; watch: the change stream (WatchChanges); writeback: notes, tags and prospects written into Greenhouse as the sync user.")]
    public IList<string> Scopes { get; init; } = [];
}
