using Assistants.Kit.Runs.Internal;
using System.Collections.Concurrent;
using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Assistants.Kit.Tests.Concurrency;

public sealed class RolloverTests
{
    private sealed class Recorder : IConversationObserver
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public ValueTask OnContextPressureAsync(ContextPressureEvent e, CancellationToken cancellationToken)
        {
            Events.Enqueue($"pressure {e.Reason} {e.ThreadId} {e.MessageCount}");
            return ValueTask.CompletedTask;
        }

        public ValueTask OnThreadRolledOverAsync(ConversationThreadEvent e, CancellationToken cancellationToken)
        {
            Events.Enqueue($"rolled {e.PreviousThreadId}->{e.ThreadId} {e.Reason}");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class FixedSummary : IConversationSummarizer
    {
        public List<ConversationSummaryRequest> Requests { get; } = [];

        public Task<string> SummarizeAsync(ConversationSummaryRequest request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Task.FromResult("The customer asked twice.");
        }
    }

    [Fact]
    public async Task ByMessageCount_SummarisedByTheAssistant_NewThreadSeeded_BindingMoved()
    {
        var recorder = new Recorder();
        await using var kit = await EmulatorKit.StartAsync(o => o.Rollover.MessageThreshold = 4, kit: k => k.AddConversationObserver(recorder));
        kit.Emulator.Script.WhenUserMessageContains("Summarise our conversation").Reply("SUMMARY: two greetings.");

        var first = await kit.Runner.RunAsync("k", "hello 1");
        var second = await kit.Runner.RunAsync("k", "hello 2"); // 4 messages: rolls over after this run
        var third = await kit.Runner.RunAsync("k", "hello 3");

        Assert.Equal(first.ThreadId, second.ThreadId);
        Assert.NotEqual(second.ThreadId, third.ThreadId);
        var binding = await kit.Store.GetAsync("k", AssistantsProtocol.Assistants);
        Assert.Equal(third.ThreadId, binding!.ThreadId);
        Assert.Equal([first.ThreadId], binding.PreviousThreadIds);
        Assert.Equal(3, binding.MessageCount); // the summary, then one exchange
        Assert.Equal(EmulatorScript.DefaultReply("hello 3", 0), third.Text); // the new thread holds no earlier user message
        Assert.Equal([$"pressure message_count {first.ThreadId} 4", $"rolled {first.ThreadId}->{third.ThreadId} rollover"], recorder.Events);

        // The new thread starts with the summary as an assistant message.
        var created = kit.Emulator.Requests.Where("POST", "/threads").Last().BodyAsJson()!;
        var seed = created["messages"]![0]!;
        Assert.Equal("assistant", seed["role"]!.GetValue<string>());
        Assert.Contains("SUMMARY: two greetings.", seed.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ByPromptTokens_UsesTheSummarizerHook()
    {
        var summary = new FixedSummary();
        await using var kit = await EmulatorKit.StartAsync(
            o =>
            {
                o.RunDefaults.MaxPromptTokens = 300;
                o.Rollover.PromptTokenThreshold = 0.1; // 30 prompt tokens
            },
            services: s => s.AddSingleton<IConversationSummarizer>(summary));

        var first = await kit.Runner.RunAsync("k", new string('x', 200)); // ~50+ prompt tokens by the emulator's formula
        var second = await kit.Runner.RunAsync("k", "next");

        Assert.NotEqual(first.ThreadId, second.ThreadId);
        var request = Assert.Single(summary.Requests);
        Assert.Equal("prompt_tokens", request.Reason);
        Assert.Equal(first.ThreadId, request.ThreadId);
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/threads/*/runs")); // the two messages' runs: the hook replaced the summary run
    }

    [Fact]
    public async Task IncompleteForMaxPromptTokens_RollsOver_AndDisabledOnlyRaisesPressure()
    {
        var recorder = new Recorder();
        await using var kit = await EmulatorKit.StartAsync(o => o.Rollover.Enabled = false, kit: k => k.AddConversationObserver(recorder));
        kit.Emulator.Script.OnRun(1).EndIncomplete("max_prompt_tokens");

        var first = await kit.Runner.RunAsync("k", "too long");
        var second = await kit.Runner.RunAsync("k", "again");

        Assert.Equal(first.ThreadId, second.ThreadId);
        Assert.Single(recorder.Events, e => e.StartsWith("pressure max_prompt_tokens", StringComparison.Ordinal));
        Assert.DoesNotContain(recorder.Events, e => e.StartsWith("rolled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResumeOnStart_HostedServiceResumesJournaledRuns()
    {
        var store = new InMemoryConversationStore();
        await using var kit = await EmulatorKit.StartAsync(services: s => s.AddSingleton<IConversationStore>(store));
        kit.Services.GetRequiredService<RunEngine>().CrashAt = p => p == "run-created";
        await Assert.ThrowsAsync<SimulatedCrashException>(() => kit.Runner.RunAsync("k", "interrupted"));

        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<IConversationStore>(store);
        builder.Services.AddAssistantsKit(o =>
        {
            o.Endpoint = kit.Emulator.BaseUri;
            o.ApiKey = KitServices.TestApiKey;
        }).AddResumeOnStart();
        using var host = builder.Build();
        await host.StartAsync();
        await Waiting.UntilAsync(() => store.GetAsync("k", AssistantsProtocol.Assistants).AsTask().Result!.Journal is null);
        await host.StopAsync();

        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs")); // resumed, not started again
        var binding = await store.GetAsync("k", AssistantsProtocol.Assistants);
        Assert.Null(binding!.ActiveRunId);
        Assert.Equal(RunStatus.Completed, binding.ActiveRunStatus);
    }
}
