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

    /// <summary>One event as a snapshot line: its type and key fields (IDs, statuses, names, counts, usage).</summary>
    internal static string Describe(RunStreamEvent e) => e switch
    {
        RunStatusChangedEvent s => $"status {s.Status} {s.RunId}",
        MessageCreatedEvent m => $"message.created {m.MessageId}",
        TextDeltaEvent t => $"text {t.MessageId} {t.Text.Length}",
        MessageCompletedEvent c => $"message.completed {c.Message.Id}{(c.IsIncomplete ? " incomplete" : string.Empty)} len={c.Message.Text.Length} annotations={c.Message.Annotations.Count}",
        ToolCallStartedEvent t => $"tool.started {t.Type} {t.Name} #{t.Index} {t.ToolCallId}",
        ToolCallArgumentsDeltaEvent a => $"tool.args #{a.Index} {a.ToolCallId} {a.Delta}",
        ToolCallCompletedEvent c => $"tool.completed {c.Type} {c.ToolCallId} results={string.Join(",", c.FileSearchResults.Select(r => $"{r.FileId}:{r.FileName}"))}",
        RunStepCompletedEvent s => string.Create(CultureInfo.InvariantCulture, $"step {s.Step.Type} {s.Step.Status} {s.Step.StepId} usage={s.Step.Usage?.InputTokens}/{s.Step.Usage?.OutputTokens}"),
        RunFinishedEvent f => $"finished {f.Status}",
        RunErrorEvent x => $"error {x.Code}",
        _ => e.Kind.ToString(),
    };

    /// <summary>
    /// The events as snapshot lines. Consecutive text deltas of one message fold into one line with their count and
    /// total length, to keep snapshots readable; the text itself is asserted separately.
    /// </summary>
    internal static string Snapshot(IEnumerable<RunStreamEvent> events)
    {
        var lines = new List<string>();
        string? message = null;
        int deltas = 0, chars = 0;
        foreach (var e in events)
        {
            if (e is TextDeltaEvent t && (message is null || message == t.MessageId))
            {
                (message, deltas, chars) = (t.MessageId, deltas + 1, chars + t.Text.Length);
                continue;
            }

            Flush();
            if (e is TextDeltaEvent next)
            {
                (message, deltas, chars) = (next.MessageId, 1, next.Text.Length);
                continue;
            }

            lines.Add(Describe(e));
        }

        Flush();
        return string.Join("\n", lines);

        void Flush()
        {
            if (deltas > 0)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"text {message} x{deltas} chars={chars}"));
            }

            (message, deltas, chars) = (null, 0, 0);
        }
    }

    [Fact]
    public async Task StreamingRunWorks_MapsToExactSequence_AndTextRebuildsTheMessage()
    {
        var (events, mapper) = await ReplayAsync(Fixture("dotnet_StreamingRunWorks.create_run.sse"));

        Assert.Equal(
            """
            status Queued run_Uy45lNz2P7BpJcqWzQkXl1Bu
            status InProgress run_Uy45lNz2P7BpJcqWzQkXl1Bu
            message.created msg_Tn5DNmiQEPZ80biW5AukKrvH
            text msg_Tn5DNmiQEPZ80biW5AukKrvH x33 chars=139
            message.completed msg_Tn5DNmiQEPZ80biW5AukKrvH len=139 annotations=0
            step MessageCreation Completed step_MVHqdoguIjNIUNR3cl1ks8ka usage=38/35
            status Completed run_Uy45lNz2P7BpJcqWzQkXl1Bu
            """.ReplaceLineEndings("\n"),
            Snapshot(events));
        AssertEveryEvent(events, "run_Uy45lNz2P7BpJcqWzQkXl1Bu");
        var message = mapper.CompletedMessages.Single();
        Assert.Equal(
            "Hello! I'm just a program, so I don't have feelings, but I'm here and ready to help you with whatever you need. How can I assist you today?",
            message.Text);
        Assert.Equal(message.Text, string.Concat(events.OfType<TextDeltaEvent>().Select(t => t.Text)));
        Assert.Equal(RunStatus.Completed, mapper.LastRun!.Status);
        Assert.Equal((38L, 35L), (mapper.LastRun.Usage!.Value.InputTokens, mapper.LastRun.Usage.Value.OutputTokens));
    }

    [Fact]
    public async Task StreamingToolCall_CollectsRequiredActionAndArgumentDeltas()
    {
        var (events, mapper) = await ReplayAsync(Fixture("dotnet_StreamingToolCall.create_thread_and_run.sse"));

        Assert.Equal(
            """
            status Queued run_oyfV44CrJXYJkvb2qsd80LvJ
            status InProgress run_oyfV44CrJXYJkvb2qsd80LvJ
            tool.started Function get_current_weather #0 call_xyFYaEeyocjyE6jN64QTcxip
            tool.args #0 call_xyFYaEeyocjyE6jN64QTcxip {}
            status RequiresAction run_oyfV44CrJXYJkvb2qsd80LvJ
            """.ReplaceLineEndings("\n"),
            Snapshot(events));
        AssertEveryEvent(events, "run_oyfV44CrJXYJkvb2qsd80LvJ");
        var call = Assert.Single(mapper.RequiredCalls);
        Assert.Equal(("call_xyFYaEeyocjyE6jN64QTcxip", "get_current_weather", "{}"), (call.ToolCallId, call.Name, call.ArgumentsJson));
        Assert.Equal(ToolCallType.Function, Assert.Single(events.OfType<ToolCallArgumentsDeltaEvent>()).Type);
        Assert.Empty(mapper.Steps); // the tool-call step is still in progress: it completes in the submit stream
        Assert.Empty(mapper.CompletedMessages);
    }

    [Fact]
    public async Task SubmitStream_MapsToExactSequence_TheToolStepThenTheReply()
    {
        var (events, mapper) = await ReplayAsync(Fixture("dotnet_StreamingToolCall.submit_tool_outputs.sse"));

        // The submit stream opens with the tool step completing, before any run event: the mapper takes the run ID from
        // the step, so every event carries it. Function outputs are the kit's own and are not re-announced (no
        // tool.completed line).
        Assert.Equal(
            """
            step ToolCalls Completed step_9c9pSsTIsCYc1KeHEI6Ba34s usage=260/12
            status Queued run_oyfV44CrJXYJkvb2qsd80LvJ
            status InProgress run_oyfV44CrJXYJkvb2qsd80LvJ
            message.created msg_kSkj4ryQchn1MSwL3I2N0uWV
            text msg_kSkj4ryQchn1MSwL3I2N0uWV x40 chars=212
            message.completed msg_kSkj4ryQchn1MSwL3I2N0uWV len=212 annotations=0
            step MessageCreation Completed step_Ou0TFVL8JOSRggWUqsOvtr70 usage=284/42
            status Completed run_oyfV44CrJXYJkvb2qsd80LvJ
            """.ReplaceLineEndings("\n"),
            Snapshot(events));
        AssertEveryEvent(events, "run_oyfV44CrJXYJkvb2qsd80LvJ");
        Assert.Equal(["step_9c9pSsTIsCYc1KeHEI6Ba34s", "step_Ou0TFVL8JOSRggWUqsOvtr70"], mapper.Steps.Select(s => s.StepId));
        Assert.Equal(
            "Since it's warm and sunny outside, you should consider wearing lightweight, breathable clothing such as a t-shirt, shorts, or a light dress. Don't forget sunglasses and sunscreen to protect yourself from the sun!",
            mapper.CompletedMessages.Single().Text);
        Assert.Equal(mapper.CompletedMessages.Single().Text, string.Concat(events.OfType<TextDeltaEvent>().Select(t => t.Text)));
        Assert.Equal((544L, 54L), (mapper.LastRun!.Usage!.Value.InputTokens, mapper.LastRun.Usage.Value.OutputTokens));
    }

    [Fact]
    public async Task FileSearchStream_MapsToExactSequence_WithTheSearchResultAndTheCitation()
    {
        var (events, mapper) = await ReplayAsync(Fixture("dotnet_FileSearchStreamingWorks.create_run.sse"));

        // File search has no name ("tool.started FileSearch  #0": two spaces); its results arrive with the completed step.
        Assert.Equal(
            """
            status Queued run_gMAiOdxbrcV3JXHDasJZwr3g
            status InProgress run_gMAiOdxbrcV3JXHDasJZwr3g
            tool.started FileSearch  #0 call_Ijw9WuTSpuhrnIInrcUzLRsL
            tool.completed FileSearch call_Ijw9WuTSpuhrnIInrcUzLRsL results=file-CyHtsk7XAWdRabQUBYRjCu:favorite_foods.txt
            step ToolCalls Completed step_0c79ag3Oq7RXIuR5v9VJ8c5I usage=830/20
            message.created msg_QKguDb0ERalCwX44IuQhxGAy
            text msg_QKguDb0ERalCwX44IuQhxGAy x9 chars=54
            message.completed msg_QKguDb0ERalCwX44IuQhxGAy len=54 annotations=1
            step MessageCreation Completed step_hmYOAd1Lb8Bx9qzQJRN3Se63 usage=1198/20
            status Completed run_gMAiOdxbrcV3JXHDasJZwr3g
            """.ReplaceLineEndings("\n"),
            Snapshot(events));
        AssertEveryEvent(events, "run_gMAiOdxbrcV3JXHDasJZwr3g");
        var message = mapper.CompletedMessages.Single();
        Assert.Equal("Filip's favorite food is cake【4:0†favorite_foods.txt】.", message.Text);
        Assert.Equal(message.Text, string.Concat(events.OfType<TextDeltaEvent>().Select(t => t.Text)));
        Assert.Equal("favorite_foods.txt", Assert.Single(message.Annotations).FileName);
        Assert.Equal((2028L, 40L), (mapper.LastRun!.Usage!.Value.InputTokens, mapper.LastRun.Usage.Value.OutputTokens));
    }

    [Fact]
    public async Task RunCompletedEventCarryingIncomplete_MapsToExactSequence_AndTrustsTheStatusField()
    {
        // The real service sent "thread.run.completed" whose data says status "incomplete".
        var (events, mapper) = await ReplayAsync(Fixture("ruby_runs_streamed_create.v2.max_completion_tokens16.sse"));

        Assert.Equal(
            """
            status Queued run_B5f5IVSEP7Sa7tif3hCrtSbo
            status InProgress run_B5f5IVSEP7Sa7tif3hCrtSbo
            message.created msg_X9MPWjYNmdhcJd8fdiPFxhRR
            text msg_X9MPWjYNmdhcJd8fdiPFxhRR x15 chars=58
            message.completed msg_X9MPWjYNmdhcJd8fdiPFxhRR incomplete len=58 annotations=0
            step MessageCreation Completed step_csJRFWmiJNLv3ElBrh4wnWlo usage=27/16
            status Incomplete run_B5f5IVSEP7Sa7tif3hCrtSbo
            """.ReplaceLineEndings("\n"),
            Snapshot(events));
        AssertEveryEvent(events, "run_B5f5IVSEP7Sa7tif3hCrtSbo");
        Assert.Equal((RunStatus.Incomplete, "max_prompt_tokens"), (mapper.LastRun!.Status, mapper.LastRun.IncompleteReason));
        Assert.Equal("Sure, I can help with writing Ruby code. However, as an AI", mapper.CompletedMessages.Single().Text);
        Assert.Equal(mapper.CompletedMessages.Single().Text, string.Concat(events.OfType<TextDeltaEvent>().Select(t => t.Text)));
    }

    [Fact]
    public async Task AssistantsV1Stream_MapsToExactSequence_TheCompletedStatusWinsOverIncompleteDetails()
    {
        // Recorded against Assistants v1 (the ruby client's "v1" run: "file_ids" on runs and messages, no
        // "tool_resources" or "attachments"). The official v2 client parses every event and ignores the v1-only fields,
        // so the adapter maps the whole stream; nothing is dropped and nothing throws. The service ended the run with
        // status "completed" while also reporting incomplete_details {"reason":"max_prompt_tokens"}: the kit reports
        // the status field (Completed) and keeps the reason; the message itself ended "incomplete" (max_tokens).
        var (events, mapper) = await ReplayAsync(Fixture("ruby_runs_streamed_create.v1.max_completion_tokens16.sse"));

        Assert.Equal(
            """
            status Queued run_JfK0BhNia1HnH28fIxropXLn
            status InProgress run_JfK0BhNia1HnH28fIxropXLn
            message.created msg_C0TO06fRsSKvo3dbtmTPtP77
            text msg_C0TO06fRsSKvo3dbtmTPtP77 x15 chars=88
            message.completed msg_C0TO06fRsSKvo3dbtmTPtP77 incomplete len=88 annotations=0
            step MessageCreation Completed step_0BKwuszpavWBGEj0E0S2bOUM usage=6/16
            status Completed run_JfK0BhNia1HnH28fIxropXLn
            """.ReplaceLineEndings("\n"),
            Snapshot(events));
        AssertEveryEvent(events, "run_JfK0BhNia1HnH28fIxropXLn");
        Assert.Equal((RunStatus.Completed, "max_prompt_tokens"), (mapper.LastRun!.Status, mapper.LastRun.IncompleteReason));
        Assert.Equal((6L, 16L), (mapper.LastRun.Usage!.Value.InputTokens, mapper.LastRun.Usage.Value.OutputTokens));
        Assert.Equal("Columbia University has a strong commitment to diversity and inclusion. This extends not", mapper.CompletedMessages.Single().Text);
        Assert.Equal(mapper.CompletedMessages.Single().Text, string.Concat(events.OfType<TextDeltaEvent>().Select(t => t.Text)));
    }

    [Fact]
    public void EveryRecordedStream_HasAnExactSnapshotTest()
    {
        // A fixture added to the folder without a snapshot fails this test. The Assistants streams are snapshotted
        // above; the responses_* streams (the Responses protocol's mapper) in Protocols/ResponsesRecordedShapeTests.
        var snapshotted = new[]
        {
            "dotnet_FileSearchStreamingWorks.create_run.sse",
            "dotnet_StreamingRunWorks.create_run.sse",
            "dotnet_StreamingToolCall.create_thread_and_run.sse",
            "dotnet_StreamingToolCall.submit_tool_outputs.sse",
            "responses_CanStreamBackgroundResponses.create_background.sse",
            "responses_CanStreamBackgroundResponses.resume_starting_after_1.sse",
            "responses_FunctionCallStreamingWorks.create.sse",
            "responses_StreamingResponses.create.sse",
            "ruby_runs_streamed_create.v1.max_completion_tokens16.sse",
            "ruby_runs_streamed_create.v2.max_completion_tokens16.sse",
        };
        var recorded = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-recorded", "sse"), "*.sse")
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal);

        Assert.Equal(snapshotted, recorded);
    }

    /// <summary>Every event names the replay thread and the recorded run.</summary>
    private static void AssertEveryEvent(IEnumerable<RunStreamEvent> events, string runId)
    {
        Assert.All(events, e => Assert.Equal(("thread_replay", runId), (e.ThreadId, e.RunId)));
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
