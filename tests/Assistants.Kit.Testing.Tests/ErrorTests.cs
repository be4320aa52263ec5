using System.Text;
using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

/// <summary>Error bodies, exactly as the real service words them (the recorded ones are checked against the recordings too).</summary>
public sealed class ErrorTests
{
    private static void AssertError(JsonNode? body, string message, string? param = null, string? code = null, string type = "invalid_request_error")
    {
        Assert.NotNull(body);
        var error = body!["error"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.Equal(message, (string?)error["message"]);
        Assert.Equal(type, (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal(code, (string?)error["code"]);
    }

    [Fact]
    public async Task NotFound_NamesTheKindAndId()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator);
        var (status, body) = await http.GetJsonAsync("/threads/thread_missing");
        Assert.Equal(404, status);
        AssertError(body, "No thread found with id 'thread_missing'.");
        AssertError((await http.GetJsonAsync("/assistants/asst_nope")).Body, "No assistant found with id 'asst_nope'.");

        var (_, thread) = await http.PostJsonAsync("/threads", new { messages = new[] { new { role = "user", content = "hi" } } });
        var threadId = thread.Str("id");
        AssertError((await http.GetJsonAsync($"/threads/{threadId}/messages/msg_nope")).Body, "No message found with id 'msg_nope'.");
        AssertError((await http.GetJsonAsync($"/threads/{threadId}/runs/run_nope")).Body, "No run found with id 'run_nope'.");

        var (_, assistant) = await http.PostJsonAsync("/assistants", new { model = "gpt-4o" });
        var (_, run) = await http.PostJsonAsync($"/threads/{threadId}/runs", new { assistant_id = assistant.Str("id") });
        var (stepStatus, step) = await http.GetJsonAsync($"/threads/{threadId}/runs/{run.Str("id")}/steps/step_123");
        Assert.Equal(404, stepStatus);
        AssertError(step, "No run step found with id 'step_123'.");
        Assert.Equal(404, (await http.DeleteJsonAsync("/assistants/asst_nope")).Status);
        Assert.Equal(404, (await http.PostJsonAsync($"/threads/{threadId}/runs", new { assistant_id = "asst_nope" })).Status);
    }

    [Fact]
    public async Task MissingAndWronglyTypedParameters_AreNamed()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator);
        var (status, body) = await http.PostJsonAsync("/assistants", new { name = "no model" });
        Assert.Equal(400, status);
        AssertError(body, "Missing required parameter: 'model'.", "model", "missing_required_parameter");

        var (_, thread) = await http.PostJsonAsync("/threads", new { messages = new[] { new { role = "user", content = "hi" } } });
        var (_, messages) = await http.GetJsonAsync($"/threads/{thread.Str("id")}/messages");
        var (modifyStatus, modified) = await http.PostJsonAsync($"/threads/{thread.Str("id")}/messages/{messages.Str("data.0.id")}", new { metadata = new { modified = true } });
        Assert.Equal(400, modifyStatus);
        AssertError(modified, "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.", "metadata.modified", "invalid_type");

        AssertError((await http.PostJsonAsync($"/threads/{thread.Str("id")}/messages", new { role = "user" })).Body, "Missing required parameter: 'content'.", "content", "missing_required_parameter");
        AssertError((await http.PostJsonAsync($"/threads/{thread.Str("id")}/messages", new { role = "system", content = "x" })).Body, "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.", "role", "invalid_value");
        AssertError((await http.PostJsonAsync("/assistants", new { model = "m", temperature = "hot" })).Body, "Invalid type for 'temperature': expected a decimal, but got a string instead.", "temperature", "invalid_type");
        AssertError((await http.PostJsonAsync("/assistants", new { model = "m", temperature = 3 })).Body, "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.", "temperature", "decimal_above_max_value");
        AssertError((await http.PostJsonAsync("/assistants", new { model = "m", colour = "blue" })).Body, "Unknown parameter: 'colour'.", "colour", "unknown_parameter");
        AssertError((await http.PostJsonAsync("/assistants", new { model = "m", tools = new[] { new { type = "function" } } })).Body, "Missing required parameter: 'tools[0].function'.", "tools[0].function", "missing_required_parameter");
        AssertError((await http.PostJsonAsync("/threads", new { messages = new object[] { new { role = "user", content = 5 } } })).Body, "Invalid type for 'messages[0].content': expected a string, but got an integer instead.", "messages[0].content", "invalid_type");
    }

    [Theory]
    [InlineData("{\"model\": \"gpt-4o\",")]
    [InlineData("not json at all")]
    [InlineData("{\"model\": 'single'}")]
    public async Task MalformedJson_Is400InvalidJson(string body)
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator);
        var (status, error) = await http.PostJsonAsync("/assistants", body);
        Assert.Equal(400, status);
        AssertError(error, "Invalid body: failed to parse JSON value. Please check the value to ensure it is valid JSON. (Common errors include trailing commas, missing closing brackets, missing quotation marks, etc.)", null, "invalid_json");
    }

    [Fact]
    public async Task Garbage_NeverCrashesTheEmulator()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator);
        var bodies = new[] { "[1,2,3]", "\"text\"", "null", "42", "{\"messages\":\"nope\"}", "{\"metadata\":[1]}", "{\"tool_resources\":{\"code_interpreter\":{\"file_ids\":[1]}}}", new string('[', 5000) + new string(']', 5000) };
        foreach (var body in bodies)
        {
            var (status, error) = await http.PostJsonAsync("/threads", body);
            Assert.Equal(400, status);
            Assert.NotNull(error!["error"]!["message"]);
        }

        var (limitStatus, limit) = await http.GetJsonAsync("/assistants?limit=1000000");
        Assert.Equal(400, limitStatus);
        AssertError(limit, "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 1000000 instead.", "limit", "integer_above_max_value");
        AssertError((await http.GetJsonAsync("/assistants?limit=0")).Body, "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.", "limit", "integer_below_min_value");
        AssertError((await http.GetJsonAsync("/assistants?limit=abc")).Body, "Invalid type for 'limit': expected an integer, but got a string instead.", "limit", "invalid_type");
        AssertError((await http.GetJsonAsync("/assistants?order=sideways")).Body, "Invalid value: 'sideways'. Supported values are: 'asc' and 'desc'.", "order", "invalid_value");

        using var binary = new ByteArrayContent([0xff, 0xfe, 0x00, 0x01]);
        using var response = await http.PostAsync("threads", binary);
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal(200, (await http.GetJsonAsync("/assistants")).Status);
    }

    [Theory]
    [InlineData("GET", "/v1/nothing/here")]
    [InlineData("DELETE", "/v1/threads/thread_x/runs")]
    [InlineData("PUT", "/v1/assistants")]
    [InlineData("GET", "/elsewhere")]
    public async Task UnknownRoute_Is404InOpenAIsEnvelope(string method, string path)
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(emulator.BaseUri, path));
        request.Headers.Add("OpenAI-Beta", "assistants=v2");
        using var response = await http.SendAsync(request);
        Assert.Equal(404, (int)response.StatusCode);
        AssertError(JsonNode.Parse(await response.Content.ReadAsStringAsync()), $"Invalid URL ({method} {path})");
    }

    [Fact]
    public async Task WrongApiKey_Is401InvalidApiKey_WithTheKeyMasked()
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new() { ApiKey = "sk-the-right-key-0123456789" });
        const string wrong = "sk-proj-wrongkeyABCDEFGHIJKLMNOPQRSTUVWXYZ";
        using var http = Emulators.Http(emulator, apiKey: wrong);
        var (status, body) = await http.GetJsonAsync("/assistants");
        Assert.Equal(401, status);
        var message = body.Str("error.message");
        Assert.Equal("invalid_api_key", body.Str("error.code"));
        Assert.Equal("invalid_request_error", body.Str("error.type"));
        Assert.DoesNotContain(wrong, message, StringComparison.Ordinal);
        Assert.Equal("Incorrect API key provided: sk-proj-******************************WXYZ. You can find your API key at https://platform.openai.com/account/api-keys.", message);

        using var none = Emulators.Http(emulator, apiKey: null);
        var (noneStatus, noneBody) = await none.GetJsonAsync("/assistants");
        Assert.Equal(401, noneStatus);
        Assert.StartsWith("You didn't provide an API key.", noneBody.Str("error.message"), StringComparison.Ordinal);

        using var right = Emulators.Http(emulator, apiKey: "sk-the-right-key-0123456789");
        Assert.Equal(200, (await right.GetJsonAsync("/assistants")).Status);
    }

    [Fact]
    public async Task WrongApiKey_HasTheRecordedEnvelopeAndMaskPattern()
    {
        var recorded = JsonNode.Parse(File.ReadAllText(Path.Combine(Recordings.Root, "openai-dotnet", "ChatTests", "AuthFailure.json")))!["Entries"]![0]!;
        await using var emulator = await AssistantsEmulator.StartAsync(new() { ApiKey = "sk-right" });
        using var http = Emulators.Http(emulator, apiKey: "not-a-real-key-0123456789-abcSanitized");
        var (status, body) = await http.GetJsonAsync("/assistants");
        Assert.Equal((int)recorded["StatusCode"]!, status);
        Assert.Empty(JsonShape.Compare(recorded["ResponseBody"], body));
        Assert.Equal((string?)recorded["ResponseBody"]!["error"]!["message"], body.Str("error.message"));
    }

    [Fact]
    public async Task MissingBetaHeader_Is400LikeTheService()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator, beta: false);
        var (status, body) = await http.GetJsonAsync("/assistants");
        Assert.Equal(400, status);
        AssertError(body, "You must provide the 'OpenAI-Beta' header to access the Assistants API. Please try again by setting the header 'OpenAI-Beta: assistants=v2'.", null, "invalid_beta");

        await using var lenient = await AssistantsEmulator.StartAsync(new() { RequireBetaHeader = false });
        using var lenientHttp = Emulators.Http(lenient, beta: false);
        Assert.Equal(200, (await lenientHttp.GetJsonAsync("/assistants")).Status);
    }

    [Fact]
    public async Task EveryErrorResponse_IsJson()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator);
        using var response = await http.PostAsync("threads", new StringContent("{", Encoding.UTF8, "application/json"));
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }
}
