using Microsoft.Extensions.Logging;
using Assistants.Kit.Accounting.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Accounting;

/// <summary>A container with accounting registered the way an app does, on a fake clock, with fake logging.</summary>
internal sealed class AccountingHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset DefaultStart = new(2026, 4, 1, 9, 0, 0, TimeSpan.Zero);

    private AccountingHarness(ServiceProvider services, FakeTimeProvider time)
    {
        Services = services;
        Time = time;
    }

    public ServiceProvider Services { get; }

    public FakeTimeProvider Time { get; }

    public List<BudgetThresholdAlert> Alerts { get; } = [];

    public IRunAccounting Accounting => Services.GetRequiredService<IRunAccounting>();

    public RunAccounting Engine => (RunAccounting)Accounting;

    public IUsageLedger Ledger => Services.GetRequiredService<IUsageLedger>();

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    public static AccountingHarness Create(
        Action<AccountingOptions>? configure = null,
        IDictionary<string, string?>? configuration = null,
        DateTimeOffset? start = null)
    {
        var time = new FakeTimeProvider(start ?? DefaultStart);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Trace));
        if (configuration is not null)
        {
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        }

        List<BudgetThresholdAlert>? alerts = null;
        var builder = services.AddAssistantsKit();
        builder.Services.AddAccountingCore();
        builder.OnBudgetThreshold((alert, _) =>
        {
            lock (alerts!)
            {
                alerts.Add(alert);
            }

            return ValueTask.CompletedTask;
        });
        if (configure is not null)
        {
            builder.ConfigureAccounting(configure);
        }

        var harness = new AccountingHarness(services.BuildServiceProvider(validateScopes: true), time);
        alerts = harness.Alerts;
        return harness;
    }

    public static RunAccountingContext Context(
        string conversationKey = "conv-1",
        string? model = "gpt-4o",
        int? maxPromptTokens = null,
        int? maxCompletionTokens = null,
        IReadOnlyDictionary<string, string>? tags = null,
        string? assistantId = "asst_1") =>
        new(conversationKey, assistantId, "Helper", model, tags ?? new Dictionary<string, string>(), maxPromptTokens, maxCompletionTokens);

    public static RunStepRecord Step(
        string id,
        TokenUsage? usage,
        DateTimeOffset createdAt,
        RunStepState status = RunStepState.Completed,
        params RunStepToolCall[] toolCalls) =>
        new(
            id,
            toolCalls.Length == 0 ? RunStepType.MessageCreation : RunStepType.ToolCalls,
            status,
            toolCalls,
            usage,
            createdAt,
            status == RunStepState.InProgress ? null : createdAt.AddSeconds(2));

    /// <summary>Records a finished run with the given usage and tools, as the engine would.</summary>
    public async Task<RunCostSummary> RunAsync(
        RunAccountingContext context,
        TokenUsage usage,
        ToolUsage tools = default,
        string threadId = "thread_1",
        string? runId = null)
    {
        await using var session = await Accounting.BeginRunAsync(context, CancellationToken.None);
        session.SetThread(threadId, runId ?? "run_" + Guid.NewGuid().ToString("N"));
        return await session.CompleteAsync(usage, tools, CancellationToken.None);
    }

    /// <summary>Appends spend directly to the ledger (what earlier runs recorded).</summary>
    public ValueTask SpendAsync(decimal cost, string conversationKey = "seed", IReadOnlyDictionary<string, string>? tags = null, long tokens = 0) =>
        Ledger.AppendAsync(new UsageEntry
        {
            Timestamp = Time.GetUtcNow(),
            ConversationKey = conversationKey,
            Model = "gpt-4o",
            Tags = tags ?? UsageEntry.EmptyTags,
            Usage = new TokenUsage(tokens, 0),
            TokenCost = cost,
        });

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}
