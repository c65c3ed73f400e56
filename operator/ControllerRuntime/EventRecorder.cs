using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ControllerRuntime;

/// <summary>Writes core/v1 Events about an object (what <c>kubectl describe</c> shows).</summary>
public sealed partial class EventRecorder
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";

    private readonly IKubernetes _client;
    private readonly string _component;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public EventRecorder(IKubernetes client, string component, TimeProvider timeProvider, ILogger logger)
    {
        _client = client;
        _component = component;
        _time = timeProvider;
        _logger = logger;
    }

    /// <summary>Records an event; failures are logged, never thrown (an event is not worth failing a reconcile).</summary>
    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> regarding, string type, string reason, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(regarding);
        var now = _time.GetUtcNow().UtcDateTime;
        var ns = regarding.Metadata.NamespaceProperty ?? "default";
        var @event = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = regarding.Metadata.Name + ".", NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = regarding.ApiVersion,
                Kind = regarding.Kind,
                Name = regarding.Metadata.Name,
                NamespaceProperty = regarding.Metadata.NamespaceProperty,
                Uid = regarding.Metadata.Uid,
                ResourceVersion = regarding.Metadata.ResourceVersion,
            },
            Type = type,
            Reason = reason,
            Message = message.Length > 1024 ? message[..1024] : message,
            Source = new V1EventSource { Component = _component },
            ReportingComponent = _component,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        try
        {
            await _client.CoreV1.CreateNamespacedEventAsync(@event, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is k8s.Autorest.HttpOperationException or HttpRequestException)
        {
            LogEventFailed(_logger, ex, reason, regarding.Metadata.Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record event {Reason} for {Name}")]
    private static partial void LogEventFailed(ILogger logger, Exception exception, string reason, string name);
}
