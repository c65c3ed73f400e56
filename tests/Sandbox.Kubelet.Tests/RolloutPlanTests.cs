using k8s.Models;

namespace Sandbox.Kubelet.Tests;

public sealed class RolloutPlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);

    private static V1DeploymentSpec Spec(int replicas, string maxSurge = "1", string maxUnavailable = "0", string type = "RollingUpdate") => new()
    {
        Replicas = replicas,
        Strategy = new V1DeploymentStrategy { Type = type, RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = maxSurge, MaxUnavailable = maxUnavailable } },
    };

    private static RolloutPlan.PodState Pod(string id, bool current, bool ready, int minute = 0) => new(id, current, ready, T0.AddMinutes(minute));

    [Fact]
    public void Rolling_update_surges_one_new_pod_and_keeps_every_old_ready_pod_until_it_is_ready()
    {
        var decision = RolloutPlan.Decide(Spec(2), [Pod("a", false, true), Pod("b", false, true)], deploymentDeleting: false);
        Assert.Equal(1, decision.Create);
        Assert.Empty(decision.Delete);

        decision = RolloutPlan.Decide(Spec(2), [Pod("a", false, true), Pod("b", false, true), Pod("c", true, false)], deploymentDeleting: false);
        Assert.Equal(0, decision.Create);
        Assert.Empty(decision.Delete);

        decision = RolloutPlan.Decide(Spec(2), [Pod("a", false, true), Pod("b", false, true), Pod("c", true, true)], deploymentDeleting: false);
        Assert.Equal(0, decision.Create);
        Assert.Single(decision.Delete);
    }

    [Fact]
    public void Scale_down_removes_not_ready_pods_first_then_the_newest()
    {
        var decision = RolloutPlan.Decide(Spec(1), [Pod("old", true, true, 0), Pod("new", true, true, 5), Pod("sick", true, false, 1)], deploymentDeleting: false);
        Assert.Equal(["sick", "new"], decision.Delete);
    }

    [Fact]
    public void Recreate_deletes_old_pods_before_creating_new_ones()
    {
        var decision = RolloutPlan.Decide(Spec(2, type: "Recreate"), [Pod("a", false, true), Pod("b", false, true)], deploymentDeleting: false);
        Assert.Equal(0, decision.Create);
        Assert.Equal(2, decision.Delete.Count);

        decision = RolloutPlan.Decide(Spec(2, type: "Recreate"), [], deploymentDeleting: false);
        Assert.Equal(2, decision.Create);
    }

    [Fact]
    public void A_deployment_being_deleted_wants_no_pods()
    {
        var decision = RolloutPlan.Decide(Spec(3), [Pod("a", true, true), Pod("b", false, true)], deploymentDeleting: true);
        Assert.Equal(0, decision.Create);
        Assert.Equal(2, decision.Delete.Count);
    }

    [Theory]
    [InlineData("25%", "25%", 4, 1, 1)]
    [InlineData("25%", "25%", 3, 1, 0)]
    [InlineData("0", "0", 3, 1, 0)]
    [InlineData("2", "1", 3, 2, 1)]
    public void Surge_rounds_up_and_unavailability_rounds_down(string maxSurge, string maxUnavailable, int replicas, int surge, int unavailable)
    {
        Assert.Equal((surge, unavailable), RolloutPlan.Budget(Spec(replicas, maxSurge, maxUnavailable), replicas));
    }
}
