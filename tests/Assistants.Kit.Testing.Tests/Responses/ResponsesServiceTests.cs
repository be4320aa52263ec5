using System.ClientModel;
using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;
using OpenAI.Responses;

namespace Assistants.Kit.Testing.Tests.Responses;

/// <summary>Errors, faults, the request log, durable state and the recorded SSE files, on the Responses + Conversations surface.</summary>
public sealed class ResponsesServiceTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "assistants-emulator-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Errors_UseTheServiceEnvelope()
    {
        await using var d = await ResponsesDriver.StartAsync();
        async Task<JsonNode> ErrorAsync(int expected, HttpMethod method, string path, object? body = null)
        {
            var (status, error) = await d.Http.SendAsync(method, path, body);
            Assert.True(status == expected, error?.ToJsonString());
            Assert.NotNull(error?["error"]?["message"]);
            Assert.Equal("invalid_request_error", error.Str("error.type"));
            return error!;
        }

        var exclusive = await ErrorAsync(400, HttpMethod.Post, "/responses", new { model = "m", input = "x", conversation = new { id = "conv_x" }, previous_response_id = "resp_x" });
        Assert.Equal("mutually_exclusive_parameters", exclusive.Str("error.code"));
        Assert.Equal("background", (await ErrorAsync(400, HttpMethod.Post, "/responses", new { model = "m", input = "x", background = true, store = false })).Str("error.param"));
        var previous = await ErrorAsync(400, HttpMethod.Post, "/responses", new { model = "m", input = "x", previous_response_id = "resp_missing" });
        Assert.Equal("Previous response with id 'resp_missing' not found.", previous.Str("error.message"));
        Assert.Equal("previous_response_not_found", previous.Str("error.code"));
        Assert.Equal("Conversation with id 'conv_missing' not found.", (await ErrorAsync(404, HttpMethod.Post, "/responses", new { model = "m", input = "x", conversation = "conv_missing" })).Str("error.message"));
        Assert.Equal("model", (await ErrorAsync(400, HttpMethod.Post, "/responses", new { input = "x" })).Str("error.param"));
        Assert.Equal("unknown_parameter", (await ErrorAsync(400, HttpMethod.Post, "/responses", new { model = "m", assistant_id = "asst_x" })).Str("error.code"));
        Assert.Equal("invalid_json", (await ErrorAsync(400, HttpMethod.Post, "/responses", "{ nope")).Str("error.code"));
        Assert.Equal("integer_below_min_value", (await ErrorAsync(400, HttpMethod.Post, "/responses", new { model = "m", input = "x", max_output_tokens = 5 })).Str("error.code"));
        Assert.Equal("Response with id 'resp_missing' not found.", (await ErrorAsync(404, HttpMethod.Get, "/responses/resp_missing")).Str("error.message"));

        var foreground = await d.CreateAsync(new { model = "m", input = "x" });
        await ErrorAsync(400, HttpMethod.Post, $"/responses/{foreground.Str("id")}/cancel");
        await ErrorAsync(400, HttpMethod.Get, $"/responses/{foreground.Str("id")}?stream=true");
        Assert.Equal("integer_above_max_value", (await ErrorAsync(400, HttpMethod.Get, $"/responses/{foreground.Str("id")}/input_items?limit=1000")).Str("error.code"));
        Assert.Equal("metadata", (await ErrorAsync(400, HttpMethod.Post, "/conversations", new { metadata = "x" })).Str("error.param"));
    }

    [Fact]
    public async Task NoBetaHeaderIsNeeded_ButTheAssistantsSurfaceStillRequiresIt()
    {
        await using var d = await ResponsesDriver.StartAsync();
        Assert.Equal(200, (await d.Http.PostJsonAsync("/conversations", new { })).Status);
        var (status, error) = await d.Http.GetJsonAsync("/assistants");
        Assert.Equal(400, status);
        Assert.Equal("invalid_beta", error.Str("error.code"));
    }

    [Fact]
    public async Task Faults_AndTheRequestLog_CoverTheNewEndpoints()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Faults.On("POST", "/responses").OnNth(1).RespondWith(429, retryAfterSeconds: 1);
        d.Emulator.Faults.On("POST", "/conversations").OnNth(1).CommitThenDrop();
        var limited = await Assert.ThrowsAsync<ClientResultException>(() => d.Responses.CreateResponseAsync("gpt-4o-mini", "hi"));
        Assert.Equal(429, limited.Status);
        var response = (await d.Responses.CreateResponseAsync("gpt-4o-mini", "hi")).Value;
        await Assert.ThrowsAnyAsync<Exception>(() => d.Http.PostJsonAsync("/conversations", new { metadata = new { k = "v" } }));
        await d.Responses.GetResponseAsync(response.Id);

        var posts = d.Emulator.Requests.Where("POST", "/responses");
        Assert.Equal([429, 200], posts.Select(r => r.StatusCode));
        Assert.Equal("hi", posts[1].BodyAsJson()!["input"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        var dropped = Assert.Single(d.Emulator.Requests.Where("POST", "/v1/conversations"));
        Assert.True(dropped.ConnectionDropped);
        Assert.Equal(200, dropped.StatusCode); // applied, then dropped
        Assert.Equal(1, d.Emulator.Requests.Count("GET", "/responses/*"));
    }

    [Fact]
    public async Task State_SurvivesARestart_ResponsesConversationsTurnsAndBackgroundStreams()
    {
        var statePath = Path.Combine(_directory, "state.json");
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(RunDriver.Start);
        string conversation, background, pending, callId;
        await using (var first = await AssistantsEmulator.StartAsync(new() { StatePath = statePath, TimeProvider = time, QueuedDuration = TimeSpan.FromSeconds(5) }))
        {
            first.Script.WhenUserMessageContains("ORD-").CallTools(("get_order_status", "{}")).Reply(ctx => $"Order is {ctx.ToolOutputs["get_order_status"]} (run {ctx.RunNumber}).");
            using var http = Emulators.Http(first, beta: false);
            conversation = (await http.PostJsonAsync("/conversations", new { metadata = new { user = "u1" }, items = new[] { new { type = "message", role = "user", content = "hello" } } })).Body.Str("id");
            background = (await http.PostJsonAsync("/responses", new { model = "m", input = "story", background = true })).Body.Str("id");
            var calling = (await http.PostJsonAsync("/responses", new { model = "m", input = "Where is ORD-1?", conversation })).Body!;
            pending = calling.Str("id");
            callId = ResponsesDriver.Calls(calling)[0].Str("call_id");
        }

        time.Advance(TimeSpan.FromSeconds(5));
        await using var second = await AssistantsEmulator.StartAsync(new() { StatePath = statePath, TimeProvider = time });
        second.Script.WhenUserMessageContains("ORD-").CallTools(("get_order_status", "{}")).Reply(ctx => $"Order is {ctx.ToolOutputs["get_order_status"]} (run {ctx.RunNumber}).");
        using var again = Emulators.Http(second, beta: false);
        Assert.Equal("u1", (await again.GetJsonAsync($"/conversations/{conversation}")).Body.Str("metadata.user"));
        Assert.Equal("completed", (await again.GetJsonAsync($"/responses/{background}")).Body.Str("status"));
        Assert.Equal("function_call", (await again.GetJsonAsync($"/responses/{pending}")).Body.Str("output.0.type"));

        // The turn goes on after the restart (its script is matched again; a reloaded turn has run number 0).
        var (_, reply) = await again.PostJsonAsync("/responses", new { model = "m", conversation, input = new[] { ResponsesDriver.Output(callId, "shipped") } });
        Assert.Equal("Order is shipped (run 0).", ResponsesDriver.Text(reply!));

        // A background response's events were kept: its stream can be resumed after the restart.
        var responses = new ResponsesClient(new ApiKeyCredential("k"), new ResponsesClientOptions { Endpoint = second.BaseUri });
        var updates = new List<StreamingResponseUpdate>();
        await using (var stream = await responses.GetResponseStreamingAsync(new GetResponseOptions(background) { StartingAfter = 1, StreamingEnabled = true }))
        {
            await foreach (var update in stream)
            {
                updates.Add(update);
            }
        }

        Assert.Equal(2, updates[0].SequenceNumber);
        Assert.Equal(StreamingResponseUpdateKind.ResponseCompleted, updates[^1].Kind);
        Assert.DoesNotContain(".tmp", string.Join(",", Directory.GetFiles(_directory)), StringComparison.Ordinal);
    }

    public static TheoryData<string> SseFiles() =>
    [
        "responses_StreamingResponses.create.sse",
        "responses_FunctionCallStreamingWorks.create.sse",
        "responses_CanStreamBackgroundResponses.create_background.sse",
        "responses_CanStreamBackgroundResponses.resume_starting_after_1.sse",
    ];

    /// <summary>The raw recorded SSE bodies against the emulator's stream for the same kind of request.</summary>
    [Theory]
    [MemberData(nameof(SseFiles))]
    public async Task RecordedSseFile_HasTheEmulatorsEventSequenceAndShapes(string file)
    {
        await using var d = await ResponsesDriver.StartAsync();
        var recorded = Recordings.SseFile(file);
        var final = recorded[^1].Json!["response"]!;
        var calls = final["output"]!.AsArray().Where(i => i.Str("type") == "function_call").Select(i => (i.Str("name"), i.Str("arguments"))).ToArray();
        if (calls.Length > 0)
        {
            d.Emulator.Script.Default().CallTools(calls);
        }
        else
        {
            d.Emulator.Script.Default().Reply(final["output"]![0]!.Str("content.0.text"));
        }

        var background = (bool)final["background"]!;
        var text = await StreamTextAsync(d.Http, HttpMethod.Post, "/responses", new { model = "gpt-4o-mini", input = "Hello, model!", background, stream = true });
        if (file.Contains("resume", StringComparison.Ordinal))
        {
            var id = Recordings.ParseSse(text)[0].Json.Str("response.id");
            text = await StreamTextAsync(d.Http, HttpMethod.Get, $"/responses/{id}?stream=true&starting_after=1", null);
        }

        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        var exchange = new RecordedExchange("POST", "/responses", null, null, 200, null, recorded);
        var diffs = ResponsesConformanceTests.CompareStreams(file, exchange, recorded, Recordings.ParseSse(text), new IdMap());
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
        if (!background)
        {
            Assert.Contains("\"obfuscation\":", text, StringComparison.Ordinal);
        }
    }

    private static async Task<string> StreamTextAsync(HttpClient http, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }
}
