using System.ClientModel;
using Assistants.Kit.Testing.Tests.Support;
using OpenAI.Assistants;

namespace Assistants.Kit.Testing.Tests;

using RunStatus = OpenAI.Assistants.RunStatus;

/// <summary>Streaming through the official client: event order, tool calls over streams, cut streams and error events.</summary>
public sealed class StreamingTests
{
    private static async Task<List<StreamingUpdate>> CollectAsync(Task<AsyncStreamingResult<StreamingUpdate>> start)
    {
        var updates = new List<StreamingUpdate>();
        await using var stream = await start;
        await foreach (var update in stream)
        {
            updates.Add(update);
        }

        return updates;
    }

    private static List<string> Kinds(IEnumerable<StreamingUpdate> updates)
    {
        var kinds = new List<string>();
        foreach (var kind in updates.Select(u => u.UpdateKind.ToString()))
        {
            if (kinds.Count == 0 || kinds[^1] != kind)
            {
                kinds.Add(kind);
            }
        }

        return kinds;
    }

    [Fact]
    public async Task CreateRunStreaming_SendsTheRecordedEventOrder_AndTheTextInPieces()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Script.Default().Reply("Hello there, how can I help you today?");
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o")).Value;
        var thread = (await client.CreateThreadAsync(new ThreadCreationOptions { InitialMessages = { "hi" } })).Value;

        var updates = await CollectAsync(client.CreateRunStreamingAsync(thread.Id, assistant.Id));
        Assert.Equal(
            ["RunCreated", "RunQueued", "RunInProgress", "RunStepCreated", "RunStepInProgress", "MessageCreated", "MessageInProgress", "MessageUpdated", "MessageCompleted", "RunStepCompleted", "RunCompleted"],
            Kinds(updates));
        var pieces = updates.OfType<MessageContentUpdate>().Select(u => u.Text).ToList();
        Assert.True(pieces.Count > 3);
        Assert.Equal("Hello there, how can I help you today?", string.Concat(pieces));
        var completed = updates.OfType<RunUpdate>().Last();
        Assert.Equal(RunStatus.Completed, completed.Value.Status);
        Assert.NotNull(completed.Value.Usage);
        Assert.NotNull(updates.OfType<RunStepUpdate>().Last().Value.Usage);

        var recorded = Recordings.SseFile("dotnet_StreamingRunWorks.create_run.sse").Select(e => e.Name).Where(n => n != "done").Distinct().Count();
        Assert.Equal(recorded, updates.Select(u => u.UpdateKind).Distinct().Count());
    }

    [Fact]
    public async Task ThreadAndRunStreaming_WithAToolCall_ThenSubmitStreaming_RunsToCompletion()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Script.Default()
            .CallTools(("get_current_weather", "{}"), ("get_location", """{"precise":true,"source":"gps-and-wifi"}"""))
            .Reply(ctx => $"Since it's {ctx.ToolOutputs["get_current_weather"]}, wear a t-shirt.");
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o", new AssistantCreationOptions { Tools = { ToolDefinition.CreateFunction("get_current_weather") } })).Value;

        var first = await CollectAsync(client.CreateThreadAndRunStreamingAsync(assistant.Id, new ThreadCreationOptions { InitialMessages = { "What should I wear?" } }));
        Assert.Equal(
            ["ThreadCreated", "RunCreated", "RunQueued", "RunInProgress", "RunStepCreated", "RunStepInProgress", "RunStepUpdated", "RunRequiresAction"],
            Kinds(first));
        var details = first.OfType<RunStepDetailsUpdate>().ToList();
        Assert.Equal("get_current_weather", details[0].FunctionName);
        Assert.NotNull(details[0].ToolCallId);
        Assert.Equal("""{"precise":true,"source":"gps-and-wifi"}""", string.Concat(details.Where(u => u.ToolCallIndex == 1).Select(u => u.FunctionArguments)));
        var actions = first.OfType<RequiredActionUpdate>().ToList();
        Assert.Equal(2, actions.Count);
        var run = actions[0].GetThreadRun();

        var second = await CollectAsync(client.SubmitToolOutputsToRunStreamingAsync(run.ThreadId, run.Id, actions.Select(a => new ToolOutput(a.ToolCallId, a.FunctionName == "get_current_weather" ? "warm and sunny" : "Oslo"))));
        Assert.Equal(
            ["RunStepCompleted", "RunQueued", "RunInProgress", "RunStepCreated", "RunStepInProgress", "MessageCreated", "MessageInProgress", "MessageUpdated", "MessageCompleted", "RunStepCompleted", "RunCompleted"],
            Kinds(second));
        var toolStep = (RunStepUpdate)second[0];
        Assert.Equal("warm and sunny", toolStep.Value.Details.ToolCalls[0].FunctionOutput);
        Assert.Equal("Since it's warm and sunny, wear a t-shirt.", string.Concat(second.OfType<MessageContentUpdate>().Select(u => u.Text)));
    }

    [Fact]
    public async Task IncompleteRun_StreamsMessageIncompleteAndRunIncomplete()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Script.Default().Reply(new string('x', 200));
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o")).Value;
        var thread = (await client.CreateThreadAsync(new ThreadCreationOptions { InitialMessages = { "hi" } })).Value;
        var updates = await CollectAsync(client.CreateRunStreamingAsync(thread.Id, assistant.Id, new RunCreationOptions { MaxOutputTokenCount = 16 }));
        Assert.Contains(updates, u => u.UpdateKind == StreamingUpdateReason.MessageFailed);
        var last = updates.OfType<RunUpdate>().Last();
        Assert.Equal(StreamingUpdateReason.RunIncomplete, last.UpdateKind);
        Assert.Equal(RunIncompleteReason.MaxOutputTokenCount, last.Value.IncompleteDetails.Reason);
    }

    [Fact]
    public async Task CutStream_AbortsTheConnection_ButTheRunGoesOn()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Script.Default().Reply("one two three").CutStreamAfter(3);
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o")).Value;
        var thread = (await client.CreateThreadAsync(new ThreadCreationOptions { InitialMessages = { "hi" } })).Value;
        var received = new List<StreamingUpdate>();
        var error = await Record.ExceptionAsync(async () =>
        {
            await using var stream = await client.CreateRunStreamingAsync(thread.Id, assistant.Id);
            await foreach (var update in stream)
            {
                received.Add(update);
            }
        });
        Assert.NotNull(error);
        Assert.Equal(3, received.Count);
        Assert.True(emulator.Requests.Where("POST", "/threads/*/runs").Single().ConnectionDropped);

        var runId = ((RunUpdate)received[0]).Value.Id;
        Assert.Equal(RunStatus.Completed, (await client.GetRunAsync(thread.Id, runId)).Value.Status);
    }

    [Fact]
    public async Task ErrorEvent_MakesTheOfficialClientThrow()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Script.Default().FailStreamAfter(2, "server_error", "Something broke mid-stream.");
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o")).Value;
        var thread = (await client.CreateThreadAsync(new ThreadCreationOptions { InitialMessages = { "hi" } })).Value;
        var received = new List<StreamingUpdate>();
        var error = await Record.ExceptionAsync(async () =>
        {
            await using var stream = await client.CreateRunStreamingAsync(thread.Id, assistant.Id);
            await foreach (var update in stream)
            {
                received.Add(update);
            }
        });
        Assert.Equal(2, received.Count);
        var clientError = Assert.IsType<ClientResultException>(error);
        Assert.Contains("server_error", clientError.Message, StringComparison.Ordinal);
        Assert.Contains("Something broke mid-stream.", clientError.Message, StringComparison.Ordinal);
    }
}
