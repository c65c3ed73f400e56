using Greenhouse.Receiver;
using Greenhouse.Receiver.Configuration;

try
{
    await using var app = ReceiverApplication.Build(args);
    await app.RunAsync().ConfigureAwait(false);
    return 0;
}
catch (ReceiverConfigurationException ex)
{
    // One line a person can act on; no stack trace for a configuration mistake.
    await Console.Error.WriteLineAsync($"greenhouse-receiver: configuration error: {ex.Message}").ConfigureAwait(false);
    return 2;
}
catch (Greenhouse.Receiver.Storage.DataDirectoryInUseException ex)
{
    await Console.Error.WriteLineAsync($"greenhouse-receiver: {ex.Message}").ConfigureAwait(false);
    return 3;
}
