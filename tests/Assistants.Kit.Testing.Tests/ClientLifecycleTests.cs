using System.ClientModel;
using OpenAI.Assistants;
using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

using RunStatus = OpenAI.Assistants.RunStatus;

/// <summary>The official OpenAI client (2.15.0) driven against the emulator: every response type deserialises.</summary>
public sealed class ClientLifecycleTests
{
    [Fact]
    public async Task FullToolCallingLifecycle_WithTheOfficialClient()
    {
        await using var d = await RunDriver.StartAsync(o =>
        {
            o.QueuedDuration = TimeSpan.FromSeconds(1);
            o.InProgressDuration = TimeSpan.FromSeconds(2);
        });
        d.Emulator.Script.WhenUserMessageContains("ORD-")
            .CallTools(("get_order_status", """{"order_id":"ORD-12345"}"""), ("get_customer", """{"order_id":"ORD-12345"}"""))
            .Reply(ctx => $"Order ORD-12345 is {ctx.ToolOutputs["get_order_status"]}.")
            .WithUsage(cached: 2);
        var client = Emulators.Client(d.Emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o", new AssistantCreationOptions
        {
            Name = "Order support",
            Instructions = "Help with orders.",
            Tools =
            {
                ToolDefinition.CreateFunction("get_order_status", "Gets an order's status", BinaryData.FromString("""{"type":"object","properties":{"order_id":{"type":"string"}}}""")),
                ToolDefinition.CreateFunction("get_customer"),
            },
            Metadata = { ["team"] = "support" },
        })).Value;
        Assert.Equal("Order support", assistant.Name);
        Assert.Equal(2, assistant.Tools.Count);

        var run = (await client.CreateThreadAndRunAsync(assistant.Id, new ThreadCreationOptions { InitialMessages = { "Where is ORD-12345?" } })).Value;
        Assert.Equal(RunStatus.Queued, run.Status);
        Assert.Null(run.Usage);
        var polls = 0;
        while (run.Status != RunStatus.RequiresAction)
        {
            d.Time.Advance(TimeSpan.FromSeconds(1));
            run = (await client.GetRunAsync(run.ThreadId, run.Id)).Value;
            Assert.True(++polls < 20);
        }

        Assert.Equal(2, run.RequiredActions.Count);
        Assert.Equal("get_order_status", run.RequiredActions[0].FunctionName);
        Assert.Equal("""{"order_id":"ORD-12345"}""", run.RequiredActions[0].FunctionArguments);
        run = (await client.SubmitToolOutputsToRunAsync(run.ThreadId, run.Id, run.RequiredActions.Select(a => new ToolOutput(a.ToolCallId, a.FunctionName == "get_order_status" ? "shipped" : "alice")))).Value;
        Assert.Equal(RunStatus.Queued, run.Status);
        while (!run.Status.IsTerminal)
        {
            d.Time.Advance(TimeSpan.FromSeconds(1));
            run = (await client.GetRunAsync(run.ThreadId, run.Id)).Value;
            Assert.True(++polls < 40);
        }

        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.NotNull(run.CompletedAt);
        Assert.True(run.Usage.TotalTokenCount > 0);

        var messages = new List<ThreadMessage>();
        await foreach (var message in client.GetMessagesAsync(run.ThreadId, new MessageCollectionOptions { Order = MessageCollectionOrder.Ascending }))
        {
            messages.Add(message);
        }

        Assert.Equal(["Where is ORD-12345?", "Order ORD-12345 is shipped."], messages.Select(m => m.Content[0].Text));
        Assert.Equal(run.Id, messages[1].RunId);
        Assert.Equal(assistant.Id, messages[1].AssistantId);

        var steps = new List<RunStep>();
        await foreach (var step in client.GetRunStepsAsync(run.ThreadId, run.Id))
        {
            steps.Add(step);
        }

        Assert.Equal([RunStepKind.CreatedMessage, RunStepKind.ToolCall], steps.Select(s => s.Kind));
        Assert.Equal("shipped", steps[1].Details.ToolCalls.Single(c => c.FunctionName == "get_order_status").FunctionOutput);
        Assert.NotNull(steps[0].Usage);
        var single = (await client.GetRunStepAsync(run.ThreadId, run.Id, steps[1].Id)).Value;
        Assert.Equal(steps[1].Id, single.Id);
        Assert.Equal(1, d.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs")
            .Count(r => r.BodyAsJson()!["tool_outputs"]!.AsArray().Count == 2));
    }

    [Fact]
    public async Task EveryResourceOperation_DeserialisesWithTheOfficialClient()
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new() { InProgressDuration = TimeSpan.FromMinutes(1) });
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o", new AssistantCreationOptions { Tools = { new FileSearchToolDefinition(), new CodeInterpreterToolDefinition() }, ResponseFormat = AssistantResponseFormat.JsonObject })).Value;
        assistant = (await client.ModifyAssistantAsync(assistant.Id, new AssistantModificationOptions { Name = "renamed", Metadata = { ["k"] = "v" } })).Value;
        Assert.Equal("renamed", (await client.GetAssistantAsync(assistant.Id)).Value.Name);
        var listed = new List<Assistant>();
        await foreach (var a in client.GetAssistantsAsync())
        {
            listed.Add(a);
        }

        Assert.Single(listed);

        var thread = (await client.CreateThreadAsync(new ThreadCreationOptions
        {
            InitialMessages = { new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("look"), MessageContent.FromImageUri(new Uri("https://example.com/a.png"))]) },
            Metadata = { ["t"] = "1" },
        })).Value;
        thread = (await client.ModifyThreadAsync(thread.Id, new ThreadModificationOptions { Metadata = { ["t"] = "2" } })).Value;
        Assert.Equal("2", (await client.GetThreadAsync(thread.Id)).Value.Metadata["t"]);

        var message = (await client.CreateMessageAsync(thread.Id, MessageRole.Assistant, [MessageContent.FromText("earlier answer")])).Value;
        message = (await client.ModifyMessageAsync(thread.Id, message.Id, new MessageModificationOptions { Metadata = { ["m"] = "x" } })).Value;
        Assert.Equal("x", (await client.GetMessageAsync(thread.Id, message.Id)).Value.Metadata["m"]);
        Assert.True((await client.DeleteMessageAsync(thread.Id, message.Id)).Value.Deleted);

        var run = (await client.CreateRunAsync(thread.Id, assistant.Id, new RunCreationOptions { AdditionalInstructions = "be brief", Temperature = 0.3f })).Value;
        run = (await client.CancelRunAsync(thread.Id, run.Id)).Value;
        Assert.Equal(RunStatus.Cancelling, run.Status);
        var runs = new List<ThreadRun>();
        await foreach (var r in client.GetRunsAsync(thread.Id))
        {
            runs.Add(r);
        }

        Assert.Equal(RunStatus.Cancelled, runs.Single().Status);
        var modified = await client.ModifyRunAsync(thread.Id, run.Id, BinaryContent.Create(BinaryData.FromString("""{"metadata":{"note":"kept"}}""")));
        Assert.Equal(200, modified.GetRawResponse().Status);

        Assert.True((await client.DeleteThreadAsync(thread.Id)).Value.Deleted);
        Assert.True((await client.DeleteAssistantAsync(assistant.Id)).Value.Deleted);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetThreadAsync(thread.Id));
        Assert.Equal(404, gone.Status);
    }
}
