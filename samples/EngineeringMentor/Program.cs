using System.Collections;
using EngineeringMentor;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C: stop waiting (the kit cancels the run on the server); a second one kills the process.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        cancellation.Cancel();
    }
};

var environment = Environment.GetEnvironmentVariables()
    .Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);

return await EngineeringMentorApp.RunAsync(args, environment, Console.Out, Console.Error, Directory.GetCurrentDirectory(), cancellation.Token);
