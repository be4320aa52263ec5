using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Text;
using Assistants.Kit.Streaming.Internal;
using OpenAI.Assistants;

namespace Assistants.Kit.Tests.Streaming;

/// <summary>Each recorded SSE body, parsed by the official client, mapped by the kit: an exact event-sequence snapshot.</summary>
public sealed class RecordedStreamReplayTests
{
    internal static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-recorded", "sse", name));

    internal static async Task<(List<RunStreamEvent> Events, StreamingUpdateMapper Mapper)> ReplayAsync(string sse, string threadId = "thread_replay")
    {
        using var http = new HttpClient(new SseHandler(sse));
        var client = new AssistantClient(
            new ApiKeyCredential("sk-replay"),
            new AssistantClientOptions { Endpoint = new Uri("http://replay.invalid/v1"), Transport = new HttpClientPipelineTransport(http), RetryPolicy = new ClientRetryPolicy(0) });
        var mapper = new StreamingUpdateMapper(threadId);
        var events = new List<RunStreamEvent>();
        await using var stream = await client.CreateRunStreamingAsync(threadId, "asst_replay");
        await foreach (var update in stream)
        {
            mapper.Map(update, events);
        }

        return (events, mapper);
    }

    internal static string Describe(RunStreamEvent e) => e switch
    {
        RunStatusChangedEvent s => $"status {s.Status}",
        MessageCreatedEvent m => "message.created",
        TextDeltaEvent t => $"text {t.Text.Length}",
        MessageCompletedEvent c => $"message.completed{(c.IsIncomplete ? " incomplete" : string.Empty)} len={c.Message.Text.Length} annotations={c.Message.Annotations.Count}",
        ToolCallStartedEvent t => $"tool.started {t.Type} {t.Name} #{t.Index}",
        ToolCallArgumentsDeltaEvent a => $"tool.args {a.Delta}",
        ToolCallCompletedEvent c => $"tool.completed {c.Type} results={c.FileSearchResults.Count}",
        RunStepCompletedEvent s => string.Create(CultureInfo.InvariantCulture, $"step {s.Step.Type} {s.Step.Status} usage={s.Step.Usage?.InputTokens}/{s.Step.Usage?.OutputTokens}"),
        RunFinishedEvent f => $"finished {f.Status}",
        RunErrorEvent x => $"error {x.Code}",
        _ => e.Kind.ToString(),
    };

    private static string Snapshot(IEnumerable<RunStreamEvent> events)
    {
        // Consecutive text deltas are folded into one line with their count, to keep snapshots readable.
        var lines = new List<string>();
        var texts = 0;
        foreach (var line in events.Select(Describe))
        {
            if (line.StartsWith("text ", StringComparison.Ordinal))
            {
                texts++;
                continue;
            }

            if (texts > 0)
            {
                lines.Add($"text x{texts}");
                texts = 0;
            }

            lines.Add(line);
        }

        if (texts > 0)
        {
            lines.Add($"text x{texts}");
        }

        return string.Join("\n", lines);
    }

    [Fact]
    public async Task StreamingRunWorks_MapsToExactSequence_AndTextRebuildsTheMessage()
    {
        var (events, mapper) = await ReplayAsync(Fixture("dotnet_StreamingRunWorks.create_run.sse"));

        Assert.Equal(
            """
            status Queued
            status InProgress
            message.created
            text x33
            message.completed len=TEXTLEN annotations=0
            step MessageCreation Completed usage=USAGE
            status Completed
            """.Replace("TEXTLEN", mapper.CompletedMessages.Single().Text.Length.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
               .Replace("USAGE", $"{mapper.Steps.Single().Usage?.InputTokens}/{mapper.Steps.Single().Usage?.OutputTokens}", StringComparison.Ordinal)
               .ReplaceLineEndings("\n"),
            Snapshot(events));
        var message = mapper.CompletedMessages.Single();
        Assert.Equal(message.Text, string.Concat(events.OfType<TextDeltaEvent>().Select(t => t.Text)));
        Assert.NotNull(mapper.LastRun!.Usage);
        Assert.True(mapper.Steps.Single().Usage!.Value.InputTokens > 0);
    }

    [Fact]
    public async Task StreamingToolCall_CollectsRequiredActionAndArgumentDeltas()
    {
        var (events, mapper) = await ReplayAsync(Fixture("dotnet_StreamingToolCall.create_thread_and_run.sse"));

        Assert.Equal(
            """
            status Queued
            status InProgress
            tool.started Function get_current_weather #0
            tool.args {}
            status RequiresAction
            """.ReplaceLineEndings("\n"),
            Snapshot(events));
        var call = Assert.Single(mapper.RequiredCalls);
        Assert.Equal("get_current_weather", call.Name);
        Assert.Equal("{}", call.ArgumentsJson);
        Assert.Equal(call.ToolCallId, events.OfType<ToolCallStartedEvent>().Single().ToolCallId);
    }

    [Fact]
    public async Task SubmitStream_StartsWithTheToolStep_ThenTheReply()
    {
        var (events, mapper) = await ReplayAsync(Fixture("dotnet_StreamingToolCall.submit_tool_outputs.sse"));
        var snapshot = Snapshot(events);

        Assert.StartsWith("step ToolCalls Completed", snapshot, StringComparison.Ordinal);
        Assert.EndsWith("status Completed", snapshot, StringComparison.Ordinal);
        Assert.DoesNotContain("tool.completed", snapshot, StringComparison.Ordinal); // function outputs are the kit's own, not re-announced
        Assert.Equal(2, mapper.Steps.Count);
        Assert.Equal(mapper.CompletedMessages.Single().Text, string.Concat(events.OfType<TextDeltaEvent>().Select(t => t.Text)));
    }

    [Fact]
    public async Task FileSearchStream_AnnouncesTheFileSearchCall()
    {
        var (events, _) = await ReplayAsync(Fixture("dotnet_FileSearchStreamingWorks.create_run.sse"));
        var snapshot = Snapshot(events);

        Assert.Contains("tool.started FileSearch  #0", snapshot, StringComparison.Ordinal);
        Assert.Contains("tool.completed FileSearch", snapshot, StringComparison.Ordinal);
        Assert.Contains("step ToolCalls Completed", snapshot, StringComparison.Ordinal);
        Assert.Contains("step MessageCreation Completed", snapshot, StringComparison.Ordinal);
        Assert.EndsWith("status Completed", snapshot, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunCompletedEventCarryingIncomplete_TrustsTheStatusField()
    {
        // The real service sent "thread.run.completed" whose data says status "incomplete".
        var (events, mapper) = await ReplayAsync(Fixture("ruby_runs_streamed_create.v2.max_completion_tokens16.sse"));

        Assert.Equal(RunStatus.Incomplete, events.OfType<RunStatusChangedEvent>().Last().Status);
        Assert.DoesNotContain(events.OfType<RunStatusChangedEvent>(), e => e.Status == RunStatus.Completed);
        Assert.Equal("max_prompt_tokens", mapper.LastRun!.IncompleteReason);
        Assert.True(events.OfType<MessageCompletedEvent>().Single().IsIncomplete);
    }

    /// <summary>Answers every request with the given SSE body.</summary>
    internal sealed class SseHandler(string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(body, Encoding.UTF8, "text/event-stream"),
            });
    }
}
