using System.ClientModel;
using System.Globalization;
using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Assistants;

namespace Assistants.Kit.Tests.Streaming;

/// <summary>An emulator and the kit pointed at it (through DI), with helpers to stream runs and check their sequences.</summary>
internal sealed class StreamHarness : IAsyncDisposable
{
    private StreamHarness(AssistantsEmulator emulator, ServiceProvider services)
    {
        Emulator = emulator;
        Services = services;
        Runner = services.GetRequiredService<AssistantRunner>();
    }

    public AssistantsEmulator Emulator { get; }

    public ServiceProvider Services { get; }

    public AssistantRunner Runner { get; }

    public EmulatorScript Script => Emulator.Script;

    public EmulatorRequestLog Requests => Emulator.Requests;

    public static async Task<StreamHarness> StartAsync(
        AssistantsEmulatorOptions? emulatorOptions = null,
        Action<AssistantsKitOptions>? configure = null,
        Action<IAssistantsKitBuilder>? kit = null)
    {
        var emulator = await AssistantsEmulator.StartAsync(emulatorOptions);
        var services = KitServices.Build(
            emulator.BaseUri,
            o =>
            {
                o.Assistant.Name = "streaming-tests";
                o.Assistant.Instructions = "Answer briefly.";

                // The emulator has zero durations: keep the recovery polls short (real time).
                o.Polling.InitialDelay = TimeSpan.FromMilliseconds(10);
                o.Polling.MinDelay = TimeSpan.FromMilliseconds(5);
                o.Polling.MaxColdDelay = TimeSpan.FromMilliseconds(50);
                o.Polling.Adaptive = false;
                configure?.Invoke(o);
            },
            kit: b =>
            {
                b.AddTools<StreamTools>();
                kit?.Invoke(b);
            });
        return new StreamHarness(emulator, services);
    }

    /// <summary>Streams a run to the end and returns every event.</summary>
    public async Task<List<RunStreamEvent>> StreamAsync(string conversationKey, string message, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        var events = new List<RunStreamEvent>();
        await foreach (var e in Runner.StreamAsync(conversationKey, message, options, cancellationToken))
        {
            events.Add(e);
        }

        return events;
    }

    /// <summary>An official client on the emulator, to look at the state behind the kit's back.</summary>
    public AssistantClient Client() =>
        new(new ApiKeyCredential("sk-inspect"), new AssistantClientOptions { Endpoint = Emulator.BaseUri });

    /// <summary>Every run that exists on the thread (not what the kit says: what the server holds).</summary>
    public async Task<List<ThreadRun>> RunsOnThreadAsync(string threadId)
    {
        var runs = new List<ThreadRun>();
        await foreach (var run in Client().GetRunsAsync(threadId))
        {
            runs.Add(run);
        }

        return runs;
    }

    /// <summary>The assistant messages of a run, as the server holds them.</summary>
    public async Task<List<ThreadMessage>> AssistantMessagesAsync(string threadId, string runId)
    {
        var messages = new List<ThreadMessage>();
        await foreach (var message in Client().GetMessagesAsync(threadId, new MessageCollectionOptions { Order = MessageCollectionOrder.Ascending }))
        {
            if (message.Role == MessageRole.Assistant && message.RunId == runId)
            {
                messages.Add(message);
            }
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Emulator.DisposeAsync();
    }

    /// <summary>One line per event; IDs left out so sequences of different runs compare.</summary>
    public static string Describe(RunStreamEvent e) => e switch
    {
        RunStatusChangedEvent s => $"status {s.Status}",
        MessageCreatedEvent => "message.created",
        TextDeltaEvent t => $"text {t.Text}",
        MessageCompletedEvent c => $"message.completed{(c.IsIncomplete ? " incomplete" : string.Empty)} {c.Message.Text}",
        ToolCallStartedEvent t => string.Create(CultureInfo.InvariantCulture, $"tool.started {t.Type} {t.Name} #{t.Index}"),
        ToolCallArgumentsDeltaEvent a => $"tool.args {a.Delta}",
        ToolCallCompletedEvent { Record: { } r } c => $"tool.completed {c.Type} {r.Name} {r.ArgumentsJson} -> {r.Output}",
        ToolCallCompletedEvent c => $"tool.completed {c.Type}",
        RunStepCompletedEvent s => $"step {s.Step.Type} {s.Step.Status}",
        RunFinishedEvent f => $"finished {f.Status}",
        RunErrorEvent x => $"error {x.Code}",
        _ => e.Kind.ToString(),
    };

    public static List<string> Describe(IEnumerable<RunStreamEvent> events) => [.. events.Select(Describe)];

    /// <summary>
    /// What every streamed run must satisfy: one thread; exactly one <see cref="RunFinishedEvent"/>, last; every event
    /// after the run's announcement carries the run ID; per message, created first, completed once, last, and the text
    /// deltas concatenate to exactly the completed text; every function call started, completed once with its record, its argument deltas concatenating to its arguments.
    /// </summary>
    public static RunFinishedEvent AssertWellFormed(IReadOnlyList<RunStreamEvent> events)
    {
        Assert.NotEmpty(events);
        var finished = Assert.IsType<RunFinishedEvent>(events[^1]);
        Assert.Single(events.OfType<RunFinishedEvent>());
        Assert.All(events, e => Assert.Equal(finished.ThreadId, e.ThreadId));
        var announced = events.ToList().FindIndex(e => e is RunStatusChangedEvent);
        Assert.True(announced >= 0, "no status event");
        Assert.All(events.Skip(announced), e => Assert.False(string.IsNullOrEmpty(e.RunId), $"{Describe(e)} has no run ID"));
        Assert.All(events.Skip(announced), e => Assert.Equal(finished.RunId, e.RunId));

        var messageIds = events.OfType<MessageCreatedEvent>().Select(m => m.MessageId).ToList();
        Assert.Equal(messageIds.Distinct().Count(), messageIds.Count);
        foreach (var id in messageIds)
        {
            var ofMessage = events.Where(e => e is MessageCreatedEvent m && m.MessageId == id
                || e is TextDeltaEvent t && t.MessageId == id
                || e is MessageCompletedEvent c && c.Message.Id == id).ToList();
            Assert.IsType<MessageCreatedEvent>(ofMessage[0]);
            var completed = Assert.IsType<MessageCompletedEvent>(ofMessage[^1]);
            Assert.Single(ofMessage.OfType<MessageCompletedEvent>());
            Assert.Equal(completed.Message.Text, string.Concat(ofMessage.OfType<TextDeltaEvent>().Select(t => t.Text)));
        }

        Assert.All(events.OfType<TextDeltaEvent>(), t => Assert.Contains(t.MessageId, messageIds));
        Assert.All(events.OfType<MessageCompletedEvent>(), c => Assert.Contains(c.Message.Id, messageIds));

        var functionCalls = events.OfType<ToolCallCompletedEvent>().Where(c => c.Type == ToolCallType.Function).ToList();
        Assert.All(functionCalls, c => Assert.Equal(c.ToolCallId, Assert.IsType<ToolCallRecord>(c.Record).ToolCallId));
        Assert.Equal(functionCalls.Count, functionCalls.Select(c => c.ToolCallId).Distinct().Count());
        var started = events.OfType<ToolCallStartedEvent>().Select(s => s.ToolCallId).ToList();
        Assert.Equal(started.Count, started.Distinct().Count());
        Assert.All(functionCalls, c => Assert.Contains(c.ToolCallId, started));
        Assert.All(functionCalls, c => Assert.Equal(
            c.Record!.ArgumentsJson,
            string.Concat(events.OfType<ToolCallArgumentsDeltaEvent>().Where(a => a.ToolCallId == c.ToolCallId).Select(a => a.Delta))));

        var terminal = events.OfType<RunStatusChangedEvent>().Where(s => s.Status.IsTerminal()).ToList();
        Assert.Equal(finished.Status, Assert.Single(terminal).Status);
        return finished;
    }

    /// <summary>The text the kit streamed, over every message, in order.</summary>
    public static string StreamedText(IEnumerable<RunStreamEvent> events) => string.Concat(events.OfType<TextDeltaEvent>().Select(t => t.Text));
}
