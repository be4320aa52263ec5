using System.Text.Json.Nodes;
using Assistants.Kit.Runs.Internal;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Concurrency;

/// <summary>
/// Kill-and-resume at each journaled phase: the first runner stops at the phase as if the process died, a new runner on
/// the same store resumes, and the request log proves nothing was sent twice.
/// </summary>
public sealed class CrashResumeTests
{
    private sealed class Counter
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public void Increment() => Interlocked.Increment(ref _calls);
    }

    private sealed class RefundTools(Counter counter)
    {
        [AssistantTool("process_refund", Description = "Refunds an order.")]
        public string ProcessRefund(string order_id)
        {
            counter.Increment();
            return $$"""{"order_id":"{{order_id}}","refunded":true}""";
        }

        [AssistantTool("get_order_status", Description = "Looks an order up.", Idempotent = true)]
        public string GetOrderStatus(string order_id)
        {
            counter.Increment();
            return $$"""{"order_id":"{{order_id}}","status":"shipped"}""";
        }
    }

    private static async Task<(EmulatorKit Kit, InMemoryConversationStore Store, Counter Counter)> StartAsync()
    {
        var store = new InMemoryConversationStore();
        var counter = new Counter();
        var kit = await EmulatorKit.StartAsync(
            kit: k => k.AddTools<RefundTools>(),
            services: s => s.AddSingleton<IConversationStore>(store).AddSingleton(counter));
        kit.Emulator.Script.WhenUserMessageContains("refund")
            .CallTools(("process_refund", """{"order_id":"ORD-1"}"""))
            .Reply(ctx => "Refunded: " + ctx.ToolOutputs["process_refund"]);
        kit.Emulator.Script.WhenUserMessageContains("status")
            .CallTools(("get_order_status", """{"order_id":"ORD-1"}"""))
            .Reply(ctx => "Status: " + ctx.ToolOutputs["get_order_status"]);
        return (kit, store, counter);
    }

    private static ServiceProvider Restart(EmulatorKit kit, InMemoryConversationStore store, Counter counter) =>
        kit.NewKit(kit: k => k.AddTools<RefundTools>(), services: s => s.AddSingleton<IConversationStore>(store).AddSingleton(counter));

    [Theory]
    [InlineData("adding-message")]
    [InlineData("message-added")]
    [InlineData("creating-run")]
    [InlineData("run-created")]
    [InlineData("outputs-computed")]
    [InlineData("outputs-submitted")]
    public async Task CrashAtEachPhase_ResumeCompletesTheRun_WithNothingSentOrExecutedTwice(string phase)
    {
        var (kit, store, counter) = await StartAsync();
        await using var _ = kit;
        kit.Services.GetRequiredService<RunEngine>().CrashAt = p => p == phase;

        await Assert.ThrowsAsync<SimulatedCrashException>(() => kit.Runner.RunAsync("k", "Please refund ORD-1"));
        var journal = (await store.GetAsync("k", AssistantsProtocol.Assistants))!.Journal;
        Assert.NotNull(journal);

        await using var restarted = Restart(kit, store, counter);
        var resumed = await restarted.GetRequiredService<AssistantRunner>().ResumeAsync();

        var outcome = Assert.Single(resumed);
        Assert.Equal("k", outcome.ConversationKey);
        Assert.Equal(RunStatus.Completed, outcome.Result!.Status);
        Assert.Equal("""Refunded: {"order_id":"ORD-1","refunded":true}""", outcome.Result.Text);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/messages"));
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs"));
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/submit_tool_outputs"));
        Assert.Equal(1, counter.Calls); // the refund ran exactly once
        var binding = await store.GetAsync("k", AssistantsProtocol.Assistants);
        Assert.Null(binding!.Journal);
        Assert.Null(binding.ActiveRunId);
        Assert.Empty(binding.PendingToolCalls);

        // Nothing left to resume; the conversation goes on.
        Assert.Empty(await restarted.GetRequiredService<AssistantRunner>().ResumeAsync());
        var next = await restarted.GetRequiredService<AssistantRunner>().RunAsync("k", "thanks");
        Assert.Equal(RunStatus.Completed, next.Status);
    }

    [Fact]
    public async Task CrashWhileANonIdempotentToolRan_ItIsNotRunAgain_TheModelAndTheAppAreTold()
    {
        var (kit, store, counter) = await StartAsync();
        await using var _ = kit;
        var engine = kit.Services.GetRequiredService<RunEngine>();
        var calls = 0;

        // Crash once the calls are journaled as pending but before their outputs are recorded.
        engine.CrashAt = p => p == "outputs-computed" && Interlocked.Increment(ref calls) == 1;
        await Assert.ThrowsAsync<SimulatedCrashException>(() => kit.Runner.RunAsync("k", "Please refund ORD-1"));
        var binding = (await store.GetAsync("k", AssistantsProtocol.Assistants))!;
        await store.SaveAsync(binding with { PendingToolCalls = [.. binding.PendingToolCalls.Select(p => p with { Output = null })] });

        var observer = new NotReexecuted();
        await using var restarted = kit.NewKit(
            kit: k => k.AddTools<RefundTools>().AddConversationObserver(observer),
            services: s => s.AddSingleton<IConversationStore>(store).AddSingleton(counter));
        var outcome = Assert.Single(await restarted.GetRequiredService<AssistantRunner>().ResumeAsync());

        Assert.Equal(RunStatus.Completed, outcome.Result!.Status);
        Assert.Equal(1, counter.Calls); // executed once before the crash, never again
        var submitted = kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs").Single().BodyAsJson()!;
        Assert.Contains("not_reexecuted", submitted["tool_outputs"]![0]!["output"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("process_refund", Assert.Single(observer.Events).ToolName);
    }

    [Fact]
    public async Task CrashWhileAnIdempotentToolRan_ItRunsAgain()
    {
        var (kit, store, counter) = await StartAsync();
        await using var _ = kit;
        kit.Services.GetRequiredService<RunEngine>().CrashAt = p => p == "outputs-computed";
        await Assert.ThrowsAsync<SimulatedCrashException>(() => kit.Runner.RunAsync("k", "What is the status of ORD-1?"));
        var binding = (await store.GetAsync("k", AssistantsProtocol.Assistants))!;
        await store.SaveAsync(binding with { PendingToolCalls = [.. binding.PendingToolCalls.Select(p => p with { Output = null })] });

        await using var restarted = Restart(kit, store, counter);
        var outcome = Assert.Single(await restarted.GetRequiredService<AssistantRunner>().ResumeAsync());

        Assert.Equal("""Status: {"order_id":"ORD-1","status":"shipped"}""", outcome.Result!.Text);
        Assert.Equal(2, counter.Calls); // idempotent: safely executed again
    }

    [Fact]
    public async Task NextMessageOnAKeyWithAPendingRun_ResumesItFirst()
    {
        var (kit, store, counter) = await StartAsync();
        await using var _ = kit;
        kit.Services.GetRequiredService<RunEngine>().CrashAt = p => p == "run-created";
        await Assert.ThrowsAsync<SimulatedCrashException>(() => kit.Runner.RunAsync("k", "Please refund ORD-1"));

        await using var restarted = Restart(kit, store, counter);
        var next = await restarted.GetRequiredService<AssistantRunner>().RunAsync("k", "hello again");

        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Equal(Testing.EmulatorScript.DefaultReply("hello again", 1), next.Text);
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/threads/*/runs")); // the crashed run was not started again
        Assert.Empty(kit.Emulator.Requests.Where(r => r.StatusCode >= 400));
        Assert.Equal(1, counter.Calls);
    }

    private sealed class NotReexecuted : IConversationObserver
    {
        public List<ToolCallNotReexecutedEvent> Events { get; } = [];

        public ValueTask OnToolCallNotReexecutedAsync(ToolCallNotReexecutedEvent e, CancellationToken cancellationToken)
        {
            Events.Add(e);
            return ValueTask.CompletedTask;
        }
    }
}
