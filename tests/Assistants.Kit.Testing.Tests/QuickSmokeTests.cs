using Assistants.Kit.Testing.Tests.Support;
using OpenAI.Assistants;

namespace Assistants.Kit.Testing.Tests;

public sealed class QuickSmokeTests
{
    [Fact]
    public async Task Client_CanRunAThread()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o")).Value;
        var thread = (await client.CreateThreadAsync()).Value;
        await client.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText("Hello")]);
        var run = (await client.CreateRunAsync(thread.Id, assistant.Id)).Value;
        Assert.Equal(RunStatus.Queued, run.Status);
        run = (await client.GetRunAsync(thread.Id, run.Id)).Value;
        Assert.Equal(RunStatus.Completed, run.Status);
        var messages = new List<ThreadMessage>();
        await foreach (var m in client.GetMessagesAsync(thread.Id))
        {
            messages.Add(m);
        }

        Assert.Equal(2, messages.Count);
        Assert.Equal("Emulated reply to \"Hello\". This thread holds 0 earlier user messages.", messages[0].Content[0].Text);
    }

    [Fact]
    public async Task Client_Streams()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o")).Value;
        var thread = (await client.CreateThreadAsync()).Value;
        await client.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText("Hello there")]);
        var kinds = new List<string>();
        await using var stream = await client.CreateRunStreamingAsync(thread.Id, assistant.Id);
        await foreach (var update in stream)
        {
            kinds.Add(update.UpdateKind.ToString());
        }

        Assert.Contains("RunCompleted", kinds);
    }
}
