using System.Collections;
using Assistants.Kit.Migrate;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C: stop after the current request (the progress is recorded per batch); a second one kills the process.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        cancellation.Cancel();
    }
};

var environment = Environment.GetEnvironmentVariables()
    .Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);

return await MigrateCommand.RunAsync(args, environment, Console.Out, Console.Error, cancellation.Token).ConfigureAwait(false);
