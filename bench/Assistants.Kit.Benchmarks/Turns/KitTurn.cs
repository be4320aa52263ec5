namespace Assistants.Kit.Benchmarks.Turns;

/// <summary>How the turn waits for the run.</summary>
public enum TurnPath
{
    /// <summary>Create the run, poll it (zero delays on both sides).</summary>
    Polled,

    /// <summary>Create the run with <c>stream: true</c>, submit tool outputs with <c>stream: true</c>.</summary>
    Streamed,
}

/// <summary>One turn through the kit, polled or streamed.</summary>
public static class KitTurn
{
    /// <summary>One turn through the kit; returns the reply text.</summary>
    public static async Task<string> RunAsync(AssistantRunner runner, TurnPath path, string key, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        if (path == TurnPath.Polled)
        {
            RunResult result = await runner.RunAsync(key, message, cancellationToken: cancellationToken).ConfigureAwait(false);
            return result.IsCompleted ? result.Text : throw new InvalidOperationException($"The run ended {result.Status}.");
        }

        RunResult? finished = null;
        await foreach (RunStreamEvent e in runner.StreamAsync(key, message, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (e is RunFinishedEvent end)
            {
                finished = end.Result;
            }
        }

        return finished is { IsCompleted: true } ok ? ok.Text : throw new InvalidOperationException("The streamed run did not complete.");
    }
}
