using Microsoft.Extensions.Hosting;

namespace Greenhouse.Operator;

/// <summary>Runs the operator for the lifetime of the host; stopping the host stops it gracefully.</summary>
internal sealed class OperatorService(GreenhouseOperator greenhouseOperator) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => greenhouseOperator.RunAsync(stoppingToken);
}
