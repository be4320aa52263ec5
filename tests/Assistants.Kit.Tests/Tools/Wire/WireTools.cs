using System.Collections.Concurrent;
using System.ComponentModel;
using System.Globalization;

namespace Assistants.Kit.Tests.Tools.Wire;

/// <summary>A scoped dependency of <see cref="WireTools"/>: one per run's scope.</summary>
public sealed class RunScopedNotes
{
    public int Number { get; } = Interlocked.Increment(ref _count);

    private static int _count;
}

/// <summary>What the handlers saw, shared by the test (a singleton).</summary>
public sealed class WireProbe
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public ConcurrentQueue<int> Instances { get; } = new();

    public ConcurrentQueue<int> Scopes { get; } = new();

    /// <summary>Completes when a blocking handler has started.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a blocking handler saw its token cancelled.</summary>
    public TaskCompletionSource HandlerCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets a handler that waits on it finish.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The tools of the wire tests: registered with <c>AddTools&lt;WireTools&gt;()</c>, hence scoped (one instance per run).</summary>
public sealed class WireTools(RunScopedNotes notes, WireProbe probe)
{
    private static int _instances;

    private readonly int _instance = Interlocked.Increment(ref _instances);

    [AssistantTool("get_weather", Description = "Gets the weather of a city.")]
    public string GetWeather([Description("The city, e.g. Paris.")] string city)
    {
        Record("get_weather");
        return $"{city}: sunny, 21 C";
    }

    [AssistantTool("add", Description = "Adds two whole numbers.")]
    public int Add([Description("The first addend.")] int a, [Description("The second addend.")] int b)
    {
        Record("add");
        return a + b;
    }

    [AssistantTool("whoami", Description = "Says which tool instance and scope answered.")]
    public string WhoAmI()
    {
        Record("whoami");
        return string.Create(CultureInfo.InvariantCulture, $"instance={_instance} scope={notes.Number}");
    }

    [AssistantTool("context", Description = "Says which call it handles.")]
    public string Context(ToolCallContext call)
    {
        Record("context");
        return $"{call.ConversationKey}|{call.ThreadId}|{call.RunId}|{call.ToolCallId}|{call.ToolName}|{call.ArgumentsJson}";
    }

    [AssistantTool("explode", Description = "Always fails.")]
    public string Explode()
    {
        Record("explode");
        throw new InvalidOperationException("The inventory database at db.internal:5432 refused the connection.");
    }

    [AssistantTool("big_report", Description = "Returns a very long report.")]
    public string BigReport()
    {
        Record("big_report");
        return Report();
    }

    /// <summary>The 50,000 characters <c>big_report</c> returns.</summary>
    public static string Report() =>
        string.Concat(Enumerable.Range(0, 5_000).Select(i => string.Create(CultureInfo.InvariantCulture, $"line {i:D4}\n")));

    [AssistantTool("wait_forever", Description = "Waits until cancelled.")]
    public async Task<string> WaitForever(CancellationToken cancellationToken)
    {
        Record("wait_forever");
        probe.Started.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            probe.HandlerCancelled.TrySetResult();
            throw;
        }

        return "unreachable";
    }

    [AssistantTool("wait_for_release", Description = "Waits until the test releases it.")]
    public async Task<string> WaitForRelease()
    {
        Record("wait_for_release");
        probe.Started.TrySetResult();
        await probe.Release.Task;
        return "released";
    }

    private void Record(string name)
    {
        probe.Calls.Enqueue(name);
        probe.Instances.Enqueue(_instance);
        probe.Scopes.Enqueue(notes.Number);
    }
}
