using System.ComponentModel;

namespace Assistants.Kit.Tests.Streaming;

/// <summary>The tools of the streamed-run tests: deterministic outputs, so a reply can quote them.</summary>
public sealed class StreamTools
{
    [AssistantTool("get_weather", Description = "The weather in a city.")]
    public static string GetWeather([Description("The city")] string city) => $"sunny in {city}";

    [AssistantTool("get_time", Description = "The time in a zone.")]
    public static string GetTime([Description("The time zone")] string zone) => $"12:00 in {zone}";

    [AssistantTool("echo", Description = "Echoes a text.")]
    public static string Echo(string text) => text;
}

/// <summary>
/// A tool whose calls wait for each other: <c>meet</c> returns only once <see cref="Expected"/> calls are inside it at
/// the same time, so a round of calls executed one after the other never completes (the call times out instead).
/// </summary>
public sealed class RendezvousTools
{
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public int Expected { get; init; } = 2;

    /// <summary>Gets the largest number of calls that were inside <c>meet</c> at once.</summary>
    public int MaxInside { get; private set; }

    [AssistantTool("meet", Description = "Waits for the other calls of the round.")]
    public async Task<string> MeetAsync(string who, CancellationToken cancellationToken)
    {
        var inside = Interlocked.Increment(ref _arrived);
        lock (_all)
        {
            MaxInside = Math.Max(MaxInside, inside);
        }

        if (inside >= Expected)
        {
            _all.TrySetResult();
        }

        await _all.Task.WaitAsync(cancellationToken);
        return $"met {who}";
    }
}
