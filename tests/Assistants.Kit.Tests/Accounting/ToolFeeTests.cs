using Assistants.Kit.Accounting.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Accounting;

public sealed class ToolFeeTests
{
    private static readonly ToolUsage CodeInterpreter = new(CodeInterpreterUsed: true);

    [Fact]
    public async Task CodeInterpreter_PerThreadSession_OneChargePerThreadPerHourWindow()
    {
        await using var harness = AccountingHarness.Create();
        var context = AccountingHarness.Context(model: "gpt-4o");

        var first = await harness.RunAsync(context, TokenUsage.Zero, CodeInterpreter, threadId: "thread_A");
        harness.Time.Advance(TimeSpan.FromMinutes(30));
        var sameThreadWithinHour = await harness.RunAsync(context, TokenUsage.Zero, CodeInterpreter, threadId: "thread_A");
        var otherThread = await harness.RunAsync(context, TokenUsage.Zero, CodeInterpreter, threadId: "thread_B");
        harness.Time.Advance(TimeSpan.FromMinutes(30)); // exactly one hour after the first session opened
        var sameThreadNextWindow = await harness.RunAsync(context, TokenUsage.Zero, CodeInterpreter, threadId: "thread_A");
        var noCodeInterpreter = await harness.RunAsync(context, TokenUsage.Zero, ToolUsage.None, threadId: "thread_C");

        Assert.Equal((1, 0.03m), (first.CodeInterpreterSessions, first.ToolCost));
        Assert.Equal((0, 0m), (sameThreadWithinHour.CodeInterpreterSessions, sameThreadWithinHour.ToolCost));
        Assert.Equal((1, 0.03m), (otherThread.CodeInterpreterSessions, otherThread.ToolCost));
        Assert.Equal((1, 0.03m), (sameThreadNextWindow.CodeInterpreterSessions, sameThreadNextWindow.ToolCost));
        Assert.Equal(0, noCodeInterpreter.CodeInterpreterSessions);
        Assert.Equal(3, noCodeInterpreter.ConversationTotals.CodeInterpreterSessions);
        Assert.Equal(0.09m, noCodeInterpreter.ConversationTotals.Cost);
    }

    [Fact]
    public async Task CodeInterpreter_PerRunOption_ChargesEveryRunThatUsedIt()
    {
        await using var harness = AccountingHarness.Create(o => o.CodeInterpreterBilling = CodeInterpreterBilling.PerRun);
        var context = AccountingHarness.Context();

        var first = await harness.RunAsync(context, TokenUsage.Zero, CodeInterpreter, threadId: "thread_A");
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        var second = await harness.RunAsync(context, TokenUsage.Zero, CodeInterpreter, threadId: "thread_A");

        Assert.Equal(1, first.CodeInterpreterSessions);
        Assert.Equal(1, second.CodeInterpreterSessions);
        Assert.Equal(0.06m, second.ConversationTotals.Cost);
    }

    [Fact]
    public async Task CodeInterpreter_SeenInSteps_UsesTheStepTimeForTheSessionWindow()
    {
        await using var harness = AccountingHarness.Create();
        var start = harness.Time.GetUtcNow();

        await using (var session = await harness.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None))
        {
            session.SetThread("thread_A", "run_1");
            await session.RecordStepAsync(
                AccountingHarness.Step("step_1", new TokenUsage(10, 1), start, RunStepState.Completed, new RunStepToolCall("ci_1", RunStepToolCallKind.CodeInterpreter)),
                CancellationToken.None);
            harness.Time.Advance(TimeSpan.FromMinutes(50));
            var summary = await session.CompleteAsync(TokenUsage.Zero, ToolUsage.None, CancellationToken.None);
            Assert.Equal(1, summary.CodeInterpreterSessions);
        }

        // 59 minutes after the step that opened the session (though 9 minutes after that run ended): still covered.
        harness.Time.Advance(TimeSpan.FromMinutes(9));
        var inside = await harness.RunAsync(AccountingHarness.Context(), TokenUsage.Zero, CodeInterpreter, threadId: "thread_A");
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var after = await harness.RunAsync(AccountingHarness.Context(), TokenUsage.Zero, CodeInterpreter, threadId: "thread_A");

        Assert.Equal(0, inside.CodeInterpreterSessions);
        Assert.Equal(1, after.CodeInterpreterSessions);
    }

    [Fact]
    public async Task FileSearch_ChargedPerCall_LargerOfReportedAndStepCounts()
    {
        await using var harness = AccountingHarness.Create();
        var now = harness.Time.GetUtcNow();

        await using var session = await harness.Accounting.BeginRunAsync(AccountingHarness.Context(model: "gpt-4o-mini"), CancellationToken.None);
        session.SetThread("thread_1", "run_1");
        await session.RecordStepAsync(
            AccountingHarness.Step(
                "step_1",
                new TokenUsage(1000, 20),
                now,
                RunStepState.Completed,
                new RunStepToolCall("fs_1", RunStepToolCallKind.FileSearch),
                new RunStepToolCall("fs_2", RunStepToolCallKind.FileSearch)),
            CancellationToken.None);
        var summary = await session.CompleteAsync(new TokenUsage(1000, 20), new ToolUsage(FileSearchCalls: 3), CancellationToken.None);

        Assert.Equal(3, summary.FileSearchCalls);
        Assert.Equal(0.0075m, summary.ToolCost);

        // gpt-4o-mini: 1000 × 0.15 + 20 × 0.60 = 162 per million.
        Assert.Equal(0.000162m, summary.TokenCost);
        Assert.Equal(0.007662m, summary.Cost);
    }

    [Fact]
    public async Task VectorStorage_AccruesGigabyteDaysBetweenReports()
    {
        await using var harness = AccountingHarness.Create();
        var storage = harness.Services.GetRequiredService<IVectorStorageAccounting>();
        var tags = new Dictionary<string, string> { ["tenant"] = "acme" };

        await storage.ReportUsageAsync("vs_1", 5_000_000_000, "conv-1", tags, CancellationToken.None); // starts the clock
        harness.Time.Advance(TimeSpan.FromDays(1));
        await storage.ReportUsageAsync("vs_1", 2_500_000_000, "conv-1", tags, CancellationToken.None); // 5 GB × 1 day
        harness.Time.Advance(TimeSpan.FromHours(12));
        await storage.StopTrackingAsync("vs_1", CancellationToken.None); // 2.5 GB × 0.5 day
        await storage.StopTrackingAsync("vs_1", CancellationToken.None); // nothing more

        var totals = await harness.Ledger.GetTotalsAsync(new UsageQuery { Kind = UsageEntryKind.VectorStorage });
        Assert.Equal(2, totals.Entries);
        Assert.Equal(6.25m, totals.VectorStorageGigabyteDays);
        Assert.Equal(0.625m, totals.Cost);
        Assert.Equal(0.625m, (await harness.Ledger.GetTotalsAsync(new UsageQuery
        {
            Tags = new Dictionary<string, string> { ["tenant"] = "acme" },
        })).Cost);
    }
}
