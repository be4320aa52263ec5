using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Conversations;
using OpenAI.Responses;

namespace Assistants.Kit.Testing.Tests.Support;

/// <summary>An emulator on a <see cref="FakeTimeProvider"/> with raw HTTP (no beta header) and the official Responses and Conversations clients.</summary>
internal sealed class ResponsesDriver : IAsyncDisposable
{
    private ResponsesDriver(AssistantsEmulator emulator, FakeTimeProvider time)
    {
        Emulator = emulator;
        Time = time;
        Http = Emulators.Http(emulator, beta: false);
        Responses = new ResponsesClient(new ApiKeyCredential("test-key"), new ResponsesClientOptions { Endpoint = emulator.BaseUri, RetryPolicy = new ClientRetryPolicy(0) });
        Conversations = new ConversationClient(new ApiKeyCredential("test-key"), new ConversationClientOptions { Endpoint = emulator.BaseUri, RetryPolicy = new ClientRetryPolicy(0) });
    }

    public AssistantsEmulator Emulator { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Http { get; }

    public ResponsesClient Responses { get; }

    public ConversationClient Conversations { get; }

    public static async Task<ResponsesDriver> StartAsync(Action<AssistantsEmulatorOptions>? configure = null)
    {
        var time = new FakeTimeProvider(RunDriver.Start);
        var options = new AssistantsEmulatorOptions { TimeProvider = time };
        configure?.Invoke(options);
        return new ResponsesDriver(await AssistantsEmulator.StartAsync(options), time);
    }

    /// <summary>POSTs /responses and asserts 200.</summary>
    public async Task<JsonNode> CreateAsync(object body)
    {
        var (status, response) = await Http.PostJsonAsync("/responses", body);
        Assert.True(status == 200, response?.ToJsonString());
        return response!;
    }

    public async Task<JsonNode> GetAsync(string responseId) => (await Http.GetJsonAsync($"/responses/{responseId}")).Body!;

    public static string Text(JsonNode response) =>
        string.Concat(response["output"]!.AsArray().Where(i => i.Str("type") == "message").Select(i => i.Str("content.0.text")));

    public static List<JsonNode> Calls(JsonNode response) =>
        response["output"]!.AsArray().Where(i => i.Str("type") == "function_call").Select(i => i!).ToList();

    public static object Output(string callId, string output) => new { type = "function_call_output", call_id = callId, output };

    public static (int Input, int Output, int Total) Usage(JsonNode response) =>
        ((int)response["usage"]!["input_tokens"]!, (int)response["usage"]!["output_tokens"]!, (int)response["usage"]!["total_tokens"]!);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Emulator.DisposeAsync();
    }
}
