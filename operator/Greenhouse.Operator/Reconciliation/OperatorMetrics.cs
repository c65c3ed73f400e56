using System.Reflection;
using ControllerRuntime;
using Prometheus;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>
/// Operator-specific metrics: integrations by Ready status, one readiness series per integration,
/// and the build. The integration series come from the replica that reconciles (the leader): a
/// replica that stops leading drops them, and a standby never had them, so summing over replicas
/// counts every integration once.
/// </summary>
public sealed class OperatorMetrics
{
    private static readonly string[] Statuses = [Conditions.True, Conditions.False, Conditions.Unknown];
    private readonly Dictionary<ObjectKey, string> _ready = [];
    private readonly Gauge _integrations;
    private readonly Gauge _integrationReady;

    public OperatorMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _integrations = factory.CreateGauge("greenhouse_integrations", "GreenhouseIntegrations by Ready condition status (True, False, Unknown), from the leader.", ["ready"]);
        _integrationReady = factory.CreateGauge("greenhouse_integration_ready", "1 while the integration's Ready condition is True, 0 while it is False or Unknown; from the leader.", ["namespace", "name"]);
        factory.CreateGauge("greenhouse_operator_build_info", "Always 1; the labels name the operator's version and .NET runtime.", ["version", "runtime"])
            .WithLabels(Version(typeof(OperatorMetrics).Assembly), Environment.Version.ToString()).Set(1);
        Publish();
    }

    /// <summary>The informational version of an assembly without the source revision suffix.</summary>
    public static string Version(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }

    public void SetReady(ObjectKey key, string status)
    {
        lock (_ready)
        {
            _ready[key] = status;
            _integrationReady.WithLabels(key.Namespace, key.Name).Set(status == Conditions.True ? 1 : 0);
            Publish();
        }
    }

    public void Forget(ObjectKey key)
    {
        lock (_ready)
        {
            if (_ready.Remove(key))
            {
                _integrationReady.RemoveLabelled(key.Namespace, key.Name);
                Publish();
            }
        }
    }

    /// <summary>Drops every integration's series: this replica no longer reconciles, the new leader reports them.</summary>
    public void Clear()
    {
        lock (_ready)
        {
            foreach (var key in _ready.Keys)
            {
                _integrationReady.RemoveLabelled(key.Namespace, key.Name);
            }

            _ready.Clear();
            Publish();
        }
    }

    private void Publish()
    {
        foreach (var status in Statuses)
        {
            _integrations.WithLabels(status).Set(_ready.Values.Count(v => v == status));
        }
    }
}
