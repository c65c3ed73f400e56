using System.ComponentModel.DataAnnotations;

namespace Greenhouse.Operator.Configuration;

/// <summary>Leader election on a coordination.k8s.io/v1 Lease (section <c>Operator:LeaderElection</c>).</summary>
public sealed record LeaderElectionSettings
{
    public bool Enabled { get; init; } = true;

    [Required(AllowEmptyStrings = false)]
    public string LeaseName { get; init; } = "greenhouse-operator";

    /// <summary>Namespace of the Lease; the operator's namespace when empty.</summary>
    public string? LeaseNamespace { get; init; }

    /// <summary>Identity of this replica in the Lease; the host name when empty.</summary>
    public string? Identity { get; init; }

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
}
