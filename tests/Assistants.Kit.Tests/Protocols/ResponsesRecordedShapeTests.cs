using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Runs.Internal;
using Assistants.Kit.Streaming.Internal;
using Assistants.Kit.Tests.Streaming;

namespace Assistants.Kit.Tests.Protocols;

/// <summary>
/// The Responses backend and stream mapper on the real service's recorded bodies (openai-dotnet session records and SSE
/// bodies): statuses, calls, usage with cached and reasoning tokens, messages, the settings read back from an echo, and a
/// background stream resumed with <c>starting_after</c>.
/// </summary>
public sealed class ResponsesRecordedShapeTests
{
    private const string Conversation = "conv_recorded";

    [Fact]
    public void FunctionCall_RecordedResponses_CallThenReply()
    {
        var entries = Record("ResponsesTests", "FunctionCallWorks.json");

        var first = ResponsesProtocolBackend.ToSnapshot(ResponseBody(entries[0]), Conversation, null);

        Assert.Equal(RunStatus.RequiresAction, first.Status);
        var call = Assert.Single(first.RequiredToolCalls);
        Assert.Equal("call_S2X9KuEJpYvFcF4hgv1XwM0j", call.ToolCallId);
        Assert.Equal("get_weather_at_location", call.Name);
        Assert.Equal("""{"location":"San Francisco, CA"}""", call.ArgumentsJson);
        Assert.Equal(new TokenUsage(74, 20), first.Usage);
        Assert.Equal("gpt-4o-mini-2024-07-18", first.Model);
        Assert.Equal(Conversation, first.ThreadId);
        Assert.Empty(first.Messages!);
        Assert.Equal(RunStepType.ToolCalls, first.AsStep().Type);

        var second = ResponsesProtocolBackend.ToSnapshot(ResponseBody(entries[1]), Conversation, null);
        Assert.Equal(RunStatus.Completed, second.Status);
        Assert.Empty(second.RequiredToolCalls);
        var message = Assert.Single(second.Messages!);
        Assert.StartsWith("msg_", message.Id, StringComparison.Ordinal);
        Assert.Equal("assistant", message.Role);
        Assert.Equal(second.Id, message.RunId);
        Assert.StartsWith("The weather in San Francisco is currently about 22°C", message.Text, StringComparison.Ordinal);

        // The kit's follow-up input item has exactly the recorded function_call_output shape.
        var sent = entries[1]!["RequestBody"]!["input"]!;
        Assert.True(JsonNode.DeepEquals(sent, ResponsesProtocolBackend.OutputItems([new(call.ToolCallId, "22 celcius and windy")])));
    }

    [Fact]
    public void EchoedSettings_ReadBackWhatWasSent_FromTheRecordedEcho()
    {
        var entry = Record("ResponsesTests", "FunctionCallWorks.json")[0];
        var request = entry!["RequestBody"]!.AsObject();

        var settings = ResponsesProtocolBackend.EchoedSettings(ResponseBody(entry));

        // Sent: model, tools (strict false, with a description), no instructions. The echo adds temperature and top_p 1,
        // empty reasoning, text format and verbosity, parallel_tool_calls true: none of them is read back.
        Assert.Equal(["metadata", "model", "tools"], settings.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("gpt-4o-mini-2024-07-18", (string?)settings["model"]); // the dated model the response used
        Assert.True(JsonNode.DeepEquals(request["tools"], settings["tools"]), settings["tools"]!.ToJsonString());
    }

    [Fact]
    public void EchoedSettings_OfAReasoningModel_KeepTheEffort_DropWhatTheServicePicked()
    {
        var entry = Record("ResponsesTests", "ResponsesWithReasoning.json")[0];
        var response = ResponseBody(entry);
        Assert.Equal(0.98, (double)response["top_p"]!); // picked by the service, never sent

        var settings = ResponsesProtocolBackend.EchoedSettings(response);

        Assert.Equal(["instructions", "metadata", "model", "reasoning"], settings.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"effort":"xhigh"}"""), settings["reasoning"]));
        Assert.Equal((string?)entry!["RequestBody"]!["instructions"], (string?)settings["instructions"]);
    }

    [Fact]
    public void Usage_CachedAndReasoningTokens_FromTheRecordedResponse()
    {
        var response = ResponseBody(Record("ResponsesToolTests", "WebSearchCallWithReasoning.json")[0]);

        var snapshot = ResponsesProtocolBackend.ToSnapshot(response, Conversation, null);

        Assert.Equal(new TokenUsage(12724, 698, CachedInputTokens: 4352, ReasoningTokens: 532), snapshot.Usage);
        Assert.Equal(snapshot.Usage, snapshot.AsStep().Usage);
    }

    [Fact]
    public void BackgroundCreateAndCancel_RecordedResponses_QueuedThenCancelled()
    {
        var entries = Record("ResponsesTests", "CanCancelBackgroundResponses.json");

        var created = ResponsesProtocolBackend.ToSnapshot(ResponseBody(entries[0]), Conversation, null);
        var cancelled = ResponsesProtocolBackend.ToSnapshot(ResponseBody(entries[1]), Conversation, null);

        Assert.Equal(RunStatus.Queued, created.Status);
        Assert.Null(created.Usage);
        Assert.Null(created.Messages);
        Assert.Null(created.CompletedAt);
        Assert.Equal(RunStatus.Cancelled, cancelled.Status);
        Assert.Empty(cancelled.RequiredToolCalls);
        Assert.Equal(RunStepState.Cancelled, cancelled.AsStep().Status);
    }

    [Fact]
    public void MessageBesideFunctionCalls_BothKept_AsOnAnAssistantsThread()
    {
        // A model may say something before it calls a tool; on Assistants that message is in the thread and part of the
        // run's result, so on Responses it is kept with the run too.
        var response = ResponseBody(Record("ResponsesTests", "FunctionCallWorks.json")[0]);
        var preamble = ResponseBody(Record("ResponsesTests", "FunctionCallWorks.json")[1])["output"]![0]!.DeepClone();
        response["output"]!.AsArray().Insert(0, preamble);

        var snapshot = ResponsesProtocolBackend.ToSnapshot(response, Conversation, null);

        Assert.Equal(RunStatus.RequiresAction, snapshot.Status);
        Assert.Single(snapshot.RequiredToolCalls);
        Assert.Single(snapshot.Messages!);
    }

    [Fact]
    public void TextStream_Recorded_MapsToExactSequence()
    {
        var mapper = new ResponsesStreamMapper(Conversation);
        mapper.BeginResponse();

        var events = Events("responses_StreamingResponses.create.sse").SelectMany(e => Mapped(mapper, e)).ToList();

        // The recorded response was created "in_progress": no Queued line.
        Assert.Equal(
            """
            status InProgress resp_0b70e4946283a4df0068c9ef5ef4d88194adeeb6e2283d609a
            message.created msg_0b70e4946283a4df0068c9ef5f4f3c819494718ea40dba591c
            text msg_0b70e4946283a4df0068c9ef5f4f3c819494718ea40dba591c x9 chars=34
            message.completed msg_0b70e4946283a4df0068c9ef5f4f3c819494718ea40dba591c len=34 annotations=0
            status Completed resp_0b70e4946283a4df0068c9ef5ef4d88194adeeb6e2283d609a
            """.ReplaceLineEndings("\n"),
            RecordedStreamReplayTests.Snapshot(events));
        AssertEveryEvent(events, "resp_0b70e4946283a4df0068c9ef5ef4d88194adeeb6e2283d609a");
        Assert.True(mapper.Finished);
        Assert.Equal(16, mapper.LastSequence);
        Assert.Equal("Hello! How can I assist you today?", Assert.Single(mapper.CompletedMessages).Text);
        Assert.Equal(mapper.CompletedMessages.Single().Text, string.Concat(events.OfType<TextDeltaEvent>().Select(e => e.Text)));
        Assert.Equal(new TokenUsage(11, 10), mapper.Snapshot!.Usage);
    }

    [Fact]
    public void BackgroundStream_Recorded_Uncut_MapsToExactSequence()
    {
        var mapper = new ResponsesStreamMapper(Conversation);
        mapper.BeginResponse();

        var events = Events("responses_CanStreamBackgroundResponses.create_background.sse").SelectMany(e => Mapped(mapper, e)).ToList();

        Assert.Equal(BackgroundSnapshot, RecordedStreamReplayTests.Snapshot(events));
        AssertEveryEvent(events, "resp_0a5004ef5dc3564c0069845a9c82c481938b9b7c975a6f56b1");
        Assert.Equal(411, mapper.LastSequence);
        Assert.Equal(new TokenUsage(13, 404), mapper.Snapshot!.Usage);
    }

    [Fact]
    public void FunctionCallStream_Recorded_NameFromTheOutputItem_ArgumentsFromTheDeltas()
    {
        var mapper = new ResponsesStreamMapper(Conversation);
        mapper.BeginResponse();

        var events = Events("responses_FunctionCallStreamingWorks.create.sse").SelectMany(e => Mapped(mapper, e)).ToList();

        Assert.Equal(
            """
            status InProgress resp_0c25e60be926327b0069305eb9ac6c8195833249c070ef4e7e
            tool.started Function get_weather_at_location #0 call_0UFGPwrziw5rbinYp7rthrTb
            tool.args #0 call_0UFGPwrziw5rbinYp7rthrTb {"
            tool.args #0 call_0UFGPwrziw5rbinYp7rthrTb location
            tool.args #0 call_0UFGPwrziw5rbinYp7rthrTb ":"
            tool.args #0 call_0UFGPwrziw5rbinYp7rthrTb San
            tool.args #0 call_0UFGPwrziw5rbinYp7rthrTb  Francisco
            tool.args #0 call_0UFGPwrziw5rbinYp7rthrTb ,
            tool.args #0 call_0UFGPwrziw5rbinYp7rthrTb  CA
            tool.args #0 call_0UFGPwrziw5rbinYp7rthrTb "}
            status RequiresAction resp_0c25e60be926327b0069305eb9ac6c8195833249c070ef4e7e
            """.ReplaceLineEndings("\n"),
            RecordedStreamReplayTests.Snapshot(events));
        AssertEveryEvent(events, "resp_0c25e60be926327b0069305eb9ac6c8195833249c070ef4e7e");
        Assert.Equal(new TokenUsage(74, 20), mapper.Snapshot!.Usage);

        Assert.True(mapper.Finished);
        var started = Assert.Single(events.OfType<ToolCallStartedEvent>());
        Assert.Equal("get_weather_at_location", started.Name); // function_call_arguments.done carries no name
        Assert.Equal("call_0UFGPwrziw5rbinYp7rthrTb", started.ToolCallId);
        Assert.Equal("""{"location":"San Francisco, CA"}""", string.Concat(events.OfType<ToolCallArgumentsDeltaEvent>().Select(e => e.Delta)));
        Assert.All(events.OfType<ToolCallArgumentsDeltaEvent>(), e => Assert.Equal(started.ToolCallId, e.ToolCallId));
        var snapshot = mapper.Snapshot!;
        Assert.Equal(RunStatus.RequiresAction, snapshot.Status);
        Assert.Equal(started.ToolCallId, Assert.Single(snapshot.RequiredToolCalls).ToolCallId);
        Assert.Equal(RunStatus.RequiresAction, events.OfType<RunStatusChangedEvent>().Last().Status);
        Assert.Equal(13, mapper.LastSequence);
    }

    [Fact]
    public void BackgroundStream_CutThenResumedStartingAfter1_TheTextOnceAndComplete()
    {
        var created = Events("responses_CanStreamBackgroundResponses.create_background.sse").ToList();
        var resumed = Events("responses_CanStreamBackgroundResponses.resume_starting_after_1.sse").ToList();
        var full = string.Concat(created.Where(e => (string?)e["type"] == "response.output_text.delta").Select(e => (string)e["delta"]!));

        // The recorded session read two events (sequence 0 and 1), then resumed with starting_after=1.
        var mapper = new ResponsesStreamMapper(Conversation);
        mapper.BeginResponse();
        var events = created.Take(2).SelectMany(e => Mapped(mapper, e)).ToList();
        Assert.False(mapper.Finished);
        Assert.Equal(1, mapper.LastSequence);
        Assert.Equal(RunStatus.Queued, mapper.Snapshot!.Status);
        events.AddRange(resumed.SelectMany(e => Mapped(mapper, e)));

        // Cut after sequence 1 and resumed: the same exact sequence as the uncut stream, nothing repeated or lost.
        Assert.Equal(BackgroundSnapshot, RecordedStreamReplayTests.Snapshot(events));
        AssertEveryEvent(events, "resp_0a5004ef5dc3564c0069845a9c82c481938b9b7c975a6f56b1");
        Assert.Equal(411, mapper.LastSequence);

        Assert.True(mapper.Finished);
        Assert.Equal(RunStatus.Completed, mapper.Snapshot!.Status);
        Assert.Equal(full, string.Concat(events.OfType<TextDeltaEvent>().Select(e => e.Text)));
        Assert.Equal(full, Assert.Single(mapper.CompletedMessages).Text);
        Assert.Equal([RunStatus.Queued, RunStatus.InProgress, RunStatus.Completed], events.OfType<RunStatusChangedEvent>().Select(e => e.Status));

        // Events seen again (a resume that overlaps) are ignored.
        Assert.Empty(created.SelectMany(e => Mapped(mapper, e)));
    }

    [Fact]
    public void NeverSent_OnlyAConnectionThatWasNeverMade()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused");

        Assert.True(ResponsesProtocolBackend.NeverSent(refused));
        Assert.True(ResponsesProtocolBackend.NeverSent(new System.ClientModel.ClientResultException("wrapped", null, refused)));
        Assert.True(ResponsesProtocolBackend.NeverSent(new HttpRequestException(HttpRequestError.NameResolutionError)));

        // Anything after the request may have left: the response may exist.
        Assert.False(ResponsesProtocolBackend.NeverSent(new HttpRequestException(HttpRequestError.ResponseEnded)));
        Assert.False(ResponsesProtocolBackend.NeverSent(new IOException("The response ended prematurely.")));
        Assert.False(ResponsesProtocolBackend.NeverSent(new TaskCanceledException("timeout")));
        Assert.False(ResponsesProtocolBackend.NeverSent(new System.ClientModel.ClientResultException("HTTP 500")));
    }

    /// <summary>The background stream's exact sequence, whole or cut and resumed (403 text deltas, folded).</summary>
    private static readonly string BackgroundSnapshot =
        """
        status Queued resp_0a5004ef5dc3564c0069845a9c82c481938b9b7c975a6f56b1
        status InProgress resp_0a5004ef5dc3564c0069845a9c82c481938b9b7c975a6f56b1
        message.created msg_0a5004ef5dc3564c0069845a9e9e988193b8df9155eb5d7b71
        text msg_0a5004ef5dc3564c0069845a9e9e988193b8df9155eb5d7b71 x403 chars=1801
        message.completed msg_0a5004ef5dc3564c0069845a9e9e988193b8df9155eb5d7b71 len=1801 annotations=0
        status Completed resp_0a5004ef5dc3564c0069845a9c82c481938b9b7c975a6f56b1
        """.ReplaceLineEndings("\n");

    /// <summary>Every event names the conversation and the recorded response.</summary>
    private static void AssertEveryEvent(IEnumerable<RunStreamEvent> events, string responseId) =>
        Assert.All(events, e => Assert.Equal((Conversation, responseId), (e.ThreadId, e.RunId)));

    private static JsonArray Record(string suite, string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-recorded", "openai-dotnet", suite, name)))!["Entries"]!.AsArray();

    private static JsonObject ResponseBody(JsonNode? entry) => entry!["ResponseBody"]!.DeepClone().AsObject();

    private static IEnumerable<JsonObject> Events(string sseFile)
    {
        var bytes = Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-recorded", "sse", sseFile)));
        foreach (var item in SseParser.Create(new MemoryStream(bytes)).Enumerate())
        {
            yield return JsonNode.Parse(item.Data)!.AsObject();
        }
    }

    /// <summary>The kit events one stream event maps to.</summary>
    private static List<RunStreamEvent> Mapped(ResponsesStreamMapper mapper, JsonObject streamEvent)
    {
        var events = new List<RunStreamEvent>();
        mapper.Map(streamEvent, events);
        return events;
    }
}
