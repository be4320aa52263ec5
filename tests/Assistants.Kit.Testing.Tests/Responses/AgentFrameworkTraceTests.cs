using System.Text;
using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests.Responses;

/// <summary>
/// The agent-framework conformance traces (request and response bodies captured from the real service, no status codes)
/// sent to the emulator one case at a time: what a case needs first (a conversation, a previous response) is created and
/// the recorded IDs are mapped to it; answers are compared like the replayed sessions (shapes, streams, exact errors).
/// </summary>
public sealed class AgentFrameworkTraceTests
{
    public static TheoryData<string> ResponseCases() => ["basic", "refusal", "json_output", "image_input", "metadata", "reasoning", "tool_call", "conversation", "streaming", "refusal_streaming", "json_output_streaming", "image_input_streaming", "reasoning_streaming"];

    [Theory]
    [MemberData(nameof(ResponseCases))]
    public async Task ResponsesTrace_MatchesTheRecordedShape(string name)
    {
        await using var d = await ResponsesDriver.StartAsync();
        var ids = new IdMap();
        var request = ResponsesRecordings.AgentFrameworkJson($"Responses/{name}/request.json").AsObject();
        var streamed = File.Exists(Path.Combine(ResponsesRecordings.AgentFrameworkRoot, $"Responses/{name}/response.txt"));
        var recorded = streamed
            ? Exchange("POST", "/responses", request, 200, null, Recordings.ParseSse(ResponsesRecordings.AgentFrameworkText($"Responses/{name}/response.txt")))
            : Exchange("POST", "/responses", request, 200, ResponsesRecordings.AgentFrameworkJson($"Responses/{name}/response.json"), null);
        ScriptLike(d, recorded);
        if ((string?)request["previous_response_id"] is { } previous)
        {
            ids.Add(previous, (await d.CreateAsync(new { model = "gpt-4o-mini", input = "What is the capital of France?" })).Str("id"));
        }

        var diffs = await SendAndCompareAsync(d, ids, $"Responses/{name}", recorded);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    [Fact]
    public async Task MutuallyExclusiveConversationAndPreviousResponse_IsTheRecordedError()
    {
        await using var d = await ResponsesDriver.StartAsync();
        var recorded = Exchange("POST", "/responses", ResponsesRecordings.AgentFrameworkJson("Responses/mutual_exclusive_error/request.json").AsObject(), 400, ResponsesRecordings.AgentFrameworkJson("Responses/mutual_exclusive_error/response.json"), null);
        var diffs = await SendAndCompareAsync(d, new IdMap(), "mutual_exclusive_error", recorded);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    public static TheoryData<string> ConversationCases() => ["basic", "basic_streaming", "create_with_items", "image_input", "image_input_streaming", "refusal", "refusal_streaming", "tool_call"];

    /// <summary>A conversation is created (from the recorded create request when there is one), then the recorded messages are sent.</summary>
    [Theory]
    [MemberData(nameof(ConversationCases))]
    public async Task ConversationTrace_MatchesTheRecordedShapes(string name)
    {
        await using var d = await ResponsesDriver.StartAsync();
        var ids = new IdMap();
        var folder = $"Conversations/{name}";
        var diffs = new List<string>();
        var createResponse = Optional($"{folder}/create_conversation_response.json") ?? Optional($"{folder}/create_response.json");
        var createRequest = Optional($"{folder}/create_conversation_request.json") ?? Optional($"{folder}/create_request.json")
            ?? new JsonObject { ["metadata"] = createResponse?["metadata"]?.DeepClone() ?? new JsonObject() };
        var (_, conversation) = await d.Http.PostJsonAsync("/conversations", createRequest);
        if (createResponse is not null)
        {
            diffs.AddRange(ResponsesConformanceTests.Compare(folder, new ReplayResult(Exchange("POST", "/conversations", createRequest.AsObject(), 200, createResponse, null), "", 200, conversation, null, null), ids));
        }

        foreach (var message in new[] { "first_message", "second_message" })
        {
            var request = Optional($"{folder}/{message}_request.json")?.AsObject();
            var json = Optional($"{folder}/{message}_response.json");
            var sse = File.Exists(Path.Combine(ResponsesRecordings.AgentFrameworkRoot, $"{folder}/{message}_response.txt"))
                ? Recordings.ParseSse(ResponsesRecordings.AgentFrameworkText($"{folder}/{message}_response.txt"))
                : null;
            if (json is null && sse is null)
            {
                continue;
            }

            request ??= new JsonObject { ["model"] = "gpt-4o-mini", ["conversation"] = conversation.Str("id"), ["input"] = "What is the capital of France?", ["max_output_tokens"] = 100 };
            if (sse is not null)
            {
                request["stream"] = true;
            }

            var recorded = Exchange("POST", "/responses", request, 200, json, sse);
            d.Emulator.Script.Clear();
            ScriptLike(d, recorded);
            ids.Add((string)request["conversation"]!, conversation.Str("id"));
            diffs.AddRange(await SendAndCompareAsync(d, ids, $"{folder}/{message}", recorded));
        }

        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    /// <summary>The item and conversation endpoints, on a conversation holding a user message and an assistant reply.</summary>
    [Fact]
    public async Task ConversationEndpointTraces_MatchTheRecordedShapesAndErrors()
    {
        await using var d = await ResponsesDriver.StartAsync();
        var ids = new IdMap();
        var diffs = new List<string>();
        var conversation = (await d.Http.PostJsonAsync("/conversations", new { metadata = new { test_type = "basic_conversation" }, items = new[] { new { type = "message", role = "user", content = "What is the capital of France?" } } })).Body.Str("id");
        var response = await d.CreateAsync(new { model = "gpt-4o-mini", conversation, input = "What is its population?" });
        var assistantItem = response.Str("output.0.id");

        async Task CaseAsync(string name, string method, string path, JsonNode? body, int status, string responseFile, string? rawBody = null)
        {
            var recorded = Exchange(method, path, body?.AsObject(), status, ResponsesRecordings.AgentFrameworkJson(responseFile), null);
            diffs.AddRange(await SendAndCompareAsync(d, ids, name, recorded, rawBody));
        }

        await CaseAsync("add_items", "POST", $"/conversations/{conversation}/items", ResponsesRecordings.AgentFrameworkJson("Conversations/add_items/request.json"), 200, "Conversations/add_items/response.json");
        await CaseAsync("list_items", "GET", $"/conversations/{conversation}/items?order=asc", null, 200, "Conversations/list_items/response.json");
        await CaseAsync("retrieve_item", "GET", $"/conversations/{conversation}/items/{assistantItem}", null, 200, "Conversations/retrieve_item/response.json");
        await CaseAsync("retrieve_conversation", "GET", $"/conversations/{conversation}", null, 200, "Conversations/retrieve_conversation/response.json");
        await CaseAsync("update_conversation", "POST", $"/conversations/{conversation}", ResponsesRecordings.AgentFrameworkJson("Conversations/update_conversation/request.json"), 200, "Conversations/update_conversation/response.json");
        await CaseAsync("error_conversation_not_found", "GET", "/conversations/conv_nonexistent123", null, 404, "Conversations/error_conversation_not_found/response.json");
        await CaseAsync("error_item_not_found", "GET", $"/conversations/{conversation}/items/msg_msg_nonexistent123nonexistent123", null, 404, "Conversations/error_item_not_found/response.json");
        await CaseAsync("error_invalid_limit", "GET", $"/conversations/{conversation}/items?limit=1000", null, 400, "Conversations/error_invalid_limit/response.json");
        await CaseAsync("error_invalid_json", "POST", "/conversations", null, 400, "Conversations/error_invalid_json/response.json", ResponsesRecordings.AgentFrameworkText("Conversations/error_invalid_json/request.txt"));
        await CaseAsync("delete_item", "DELETE", $"/conversations/{conversation}/items/{assistantItem}", null, 200, "Conversations/delete_item/response.json");

        var recordedDeleted = (string)ResponsesRecordings.AgentFrameworkJson("Conversations/delete_conversation/response.json")["id"]!;
        ids.Add(recordedDeleted, conversation);
        await CaseAsync("delete_conversation", "DELETE", $"/conversations/{conversation}", null, 200, "Conversations/delete_conversation/response.json");
        await CaseAsync("error_delete_already_deleted", "DELETE", $"/conversations/{conversation}", null, 404, "Conversations/error_delete_already_deleted/response.json");
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));

        // error_missing_required_field holds only the request (an item without a role): the emulator names the parameter.
        var other = (await d.Http.PostJsonAsync("/conversations", new { })).Body.Str("id");
        var (missingStatus, missing) = await d.Http.PostJsonAsync($"/conversations/{other}/items", ResponsesRecordings.AgentFrameworkJson("Conversations/error_missing_required_field/request.json"));
        Assert.Equal(400, missingStatus);
        Assert.Equal("items[0].role", missing.Str("error.param"));
        Assert.Equal("missing_required_parameter", missing.Str("error.code"));
    }

    private static JsonNode? Optional(string relativePath) =>
        File.Exists(Path.Combine(ResponsesRecordings.AgentFrameworkRoot, relativePath)) ? ResponsesRecordings.AgentFrameworkJson(relativePath) : null;

    private static RecordedExchange Exchange(string method, string path, JsonObject? request, int status, JsonNode? json, IReadOnlyList<SseEvent>? events) =>
        new(method, path, request?.ToJsonString(), null, status, json, events);

    /// <summary>Scripts the recorded function calls, or a reply long enough to be cut when the recording ended incomplete.</summary>
    private static void ScriptLike(ResponsesDriver d, RecordedExchange recorded)
    {
        var final = recorded.ResponseJson ?? recorded.ResponseEvents?.LastOrDefault(e => e.Json?["response"] is not null)?.Json?["response"];
        var calls = (final?["output"] as JsonArray)?.Where(i => (string?)i?["type"] == "function_call").Select(i => ((string)i!["name"]!, (string)i["arguments"]!)).ToArray() ?? [];
        if (calls.Length > 0)
        {
            d.Emulator.Script.Default().CallTools(calls);
        }
        else if ((string?)final?["status"] == "incomplete")
        {
            d.Emulator.Script.Default().Reply(string.Join(' ', Enumerable.Repeat("Paris is the capital of France.", 200)));
        }
    }

    private static async Task<List<string>> SendAndCompareAsync(ResponsesDriver d, IdMap ids, string context, RecordedExchange recorded, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(recorded.Method), ids.Apply(recorded.PathAndQuery).TrimStart('/'));
        var body = rawBody ?? (recorded.RequestBody is null ? null : ids.Apply(recorded.RequestBody));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await d.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        var result = recorded.ResponseEvents is not null && status == 200
            ? new ReplayResult(recorded, "", status, null, Recordings.ParseSse(text), null)
            : new ReplayResult(recorded, "", status, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text), null, null);
        return ResponsesConformanceTests.Compare(context, result, ids);
    }
}
