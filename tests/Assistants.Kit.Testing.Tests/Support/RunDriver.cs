using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Testing.Tests.Support;

/// <summary>An emulator on a <see cref="FakeTimeProvider"/> plus raw-HTTP helpers for run tests.</summary>
internal sealed class RunDriver : IAsyncDisposable
{
    private RunDriver(AssistantsEmulator emulator, FakeTimeProvider time)
    {
        Emulator = emulator;
        Time = time;
        Http = Emulators.Http(emulator);
    }

    public AssistantsEmulator Emulator { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Http { get; }

    public static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static long StartSeconds => Start.ToUnixTimeSeconds();

    public static async Task<RunDriver> StartAsync(Action<AssistantsEmulatorOptions>? configure = null)
    {
        var time = new FakeTimeProvider(Start);
        var options = new AssistantsEmulatorOptions { TimeProvider = time };
        configure?.Invoke(options);
        return new RunDriver(await AssistantsEmulator.StartAsync(options), time);
    }

    public async Task<string> AssistantAsync(object? body = null) => (await Http.PostJsonAsync("/assistants", body ?? new { model = "gpt-4o" })).Body.Str("id");

    public async Task<string> ThreadAsync(params string[] userMessages) =>
        (await Http.PostJsonAsync("/threads", new { messages = userMessages.Select(m => new { role = "user", content = m }).ToArray() })).Body.Str("id");

    public async Task<JsonNode> CreateRunAsync(string threadId, object body)
    {
        var (status, run) = await Http.PostJsonAsync($"/threads/{threadId}/runs", body);
        Assert.True(status == 200, run?.ToJsonString());
        return run!;
    }

    public async Task<JsonNode> GetRunAsync(JsonNode run) => (await Http.GetJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}")).Body!;

    public async Task<(int Status, JsonNode? Body)> SubmitAsync(JsonNode run, params (string CallId, string Output)[] outputs) =>
        await Http.PostJsonAsync(
            $"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}/submit_tool_outputs",
            new { tool_outputs = outputs.Select(o => new { tool_call_id = o.CallId, output = o.Output }).ToArray() });

    public async Task<List<JsonNode>> MessagesAsync(string threadId, string order = "asc") =>
        (await Http.GetJsonAsync($"/threads/{threadId}/messages?order={order}&limit=100")).Body!["data"]!.AsArray().Select(m => m!).ToList();

    public async Task<List<JsonNode>> StepsAsync(JsonNode run) =>
        (await Http.GetJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}/steps?order=asc")).Body!["data"]!.AsArray().Select(m => m!).ToList();

    public static string Text(JsonNode message) => message.Str("content.0.text.value");

    public static List<string> CallIds(JsonNode run) =>
        run["required_action"]!["submit_tool_outputs"]!["tool_calls"]!.AsArray().Select(c => c.Str("id")).ToList();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Emulator.DisposeAsync();
    }
}
