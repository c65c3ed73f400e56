using ControllerRuntime;
using Prometheus;

namespace Greenhouse.Operator.Reconciliation;

/// <summary>Operator-specific metrics: integrations by Ready status.</summary>
public sealed class OperatorMetrics
{
    private static readonly string[] Statuses = [Conditions.True, Conditions.False, Conditions.Unknown];
    private readonly Dictionary<ObjectKey, string> _ready = [];
    private readonly Gauge _integrations;

    public OperatorMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _integrations = factory.CreateGauge("greenhouse_integrations", "GreenhouseIntegrations by Ready condition status.", ["ready"]);
        foreach (var status in Statuses)
        {
            _integrations.WithLabels(status).Set(0);
        }
    }

    public void SetReady(ObjectKey key, string status)
    {
        lock (_ready)
        {
            _ready[key] = status;
            Publish();
        }
    }

    public void Forget(ObjectKey key)
    {
        lock (_ready)
        {
            if (_ready.Remove(key))
            {
                Publish();
            }
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
