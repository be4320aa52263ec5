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

    [Theory]
    [InlineData(300, true)]     // the run's own max_prompt_tokens: 30 prompt tokens reach 10 % of it
    [InlineData(100_000, false)] // the default (300) would roll over; the run's larger limit does not
    public async Task ByPromptTokens_TheRunsOwnMaxPromptTokens_IsTheLimit(int runLimit, bool rollsOver)
    {
        var recorder = new Recorder();
        await using var kit = await EmulatorKit.StartAsync(
            o =>
            {
                o.RunDefaults.MaxPromptTokens = runLimit == 300 ? 100_000 : 300;
                o.Rollover.PromptTokenThreshold = 0.1;
            },
            kit: k => k.AddConversationObserver(recorder));
        kit.Emulator.Script.WhenUserMessageContains("Summarise our conversation").Reply("SUMMARY");

        var options = new RunOptions { MaxPromptTokens = runLimit };
        var first = await kit.Runner.RunAsync("k", new string('x', 200), options);
        var second = await kit.Runner.RunAsync("k", "next", options);

        Assert.Equal(runLimit, (int)kit.Emulator.Requests.Where("POST", "/threads/*/runs")[0].BodyAsJson()!["max_prompt_tokens"]!);
        Assert.Equal(rollsOver, first.ThreadId != second.ThreadId);
        Assert.Equal(rollsOver, recorder.Events.Any(e => e.StartsWith("pressure prompt_tokens", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(400, true)]   // the configured window: 10 % is 40 tokens, reached
    [InlineData(null, false)] // the default model's known window (gpt-4.1-mini: 1,047,576): far away
    public async Task ByPromptTokens_OnResponses_TheContextWindowIsTheLimit(int? window, bool rollsOver)
    {
        var recorder = new Recorder();
        await using var k = await Protocols.ProtocolKit.StartAsync(
            AssistantsProtocol.Responses,
            configure: o =>
            {
                o.Rollover.ContextWindowTokens = window;
                o.Rollover.PromptTokenThreshold = 0.1;
            },
            kit: b => b.AddConversationObserver(recorder));
        k.Script.WhenUserMessageContains("Summarise our conversation").Reply("SUMMARY");

        var first = await k.Runner.RunAsync("k", new string('x', 200));
        var second = await k.Runner.RunAsync("k", "next");

        Assert.True(first.Usage!.Value.InputTokens >= 40);
        Assert.Equal(rollsOver, first.ThreadId != second.ThreadId);
        Assert.Equal(rollsOver, recorder.Events.Any(e => e.StartsWith("pressure prompt_tokens", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("gpt-4.1-mini", 1_047_576)]
    [InlineData("gpt-4o-2024-08-06", 128_000)]
    [InlineData("gpt-4o-mini", 128_000)]
    [InlineData("o3", 200_000)]
    [InlineData("o4-mini-2025-04-16", 200_000)]
    [InlineData("gpt-5.1", null)]
    [InlineData("gpt-5-nano", 272_000)]
    [InlineData("my-local-llama", null)]
    [InlineData("", null)]
    public void KnownContextWindows_MatchAFamilyOrItsDatedSnapshots(string model, int? window) =>
        Assert.Equal(window, RolloverOptions.KnownContextWindow(model));

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
