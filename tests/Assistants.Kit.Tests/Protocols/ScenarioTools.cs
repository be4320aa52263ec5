using System.ComponentModel;

namespace Assistants.Kit.Tests.Protocols;

/// <summary>What the scenario tools saw, shared by a test (a singleton per kit).</summary>
public sealed class ScenarioProbe
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Completes when <c>wait_for_release</c> has started.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets <c>wait_for_release</c> finish.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal void Called() => Interlocked.Increment(ref _calls);
}

/// <summary>The tools of the protocol scenarios (registered with <c>AddTools&lt;ScenarioTools&gt;()</c>).</summary>
public sealed class ScenarioTools(ScenarioProbe probe)
{
    /// <summary>The output of <c>get_weather</c> for Paris (18 characters).</summary>
    public const string ParisOutput = "Paris: sunny, 21 C";

    [AssistantTool("get_weather", Description = "Gets the weather of a city.")]
    public string GetWeather([Description("The city, e.g. Paris.")] string city)
    {
        probe.Called();
        return $"{city}: sunny, 21 C";
    }

    [AssistantTool("add", Description = "Adds two whole numbers.")]
    public int Add(int a, int b)
    {
        probe.Called();
        return a + b;
    }

    [AssistantTool("wait_for_release", Description = "Waits until the test releases it.")]
    public async Task<string> WaitForRelease(CancellationToken cancellationToken)
    {
        probe.Called();
        probe.Started.TrySetResult();
        await probe.Release.Task.WaitAsync(cancellationToken);
        return "released";
    }
}
