using Assistants.Kit.Tests.Protocols;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Approvals;

/// <summary>
/// Cost across an approval pause: the run's tokens are in the usage ledger exactly once, whichever protocol, with or
/// without a budget (with one, the steps before the pause are recorded mid-run), polled or streamed. Expected numbers
/// follow the emulator's usage formula (<c>ceil(chars / 4)</c> per model step; see <see cref="Assistants.Kit.Testing.EmulatorScript"/>).
/// </summary>
public sealed class ApprovalAccountingTests
{
    private const string Message = "Refund ORD-9, please.";                        // 21 characters
    private const string Arguments = """{"order_id":"ORD-9"}""";                   // 20 characters
    private const string Output = """{"order_id":"ORD-9","refunded":true}""";      // 36 characters
    private const string Reply = "done";                                           // 4 characters

    // Step 1 (asks for the tool): prompt ceil((9 + 21) / 4) = 8, completion ceil(20 / 4) = 5.
    // Step 2 (the reply):         prompt ceil((9 + 21 + 36) / 4) = 17, completion ceil(4 / 4) = 1.
    private static readonly TokenUsage WholeRun = new(8 + 17, 5 + 1);

    // gpt-4.1-mini: $0.40 input, $1.60 output per million tokens.
    private const decimal WholeRunCost = ((25 * 0.40m) + (6 * 1.60m)) / 1_000_000m;

    public static TheoryData<AssistantsProtocol, bool, bool> Cases
    {
        get
        {
            var data = new TheoryData<AssistantsProtocol, bool, bool>();
            foreach (var protocol in new[] { AssistantsProtocol.Assistants, AssistantsProtocol.Responses })
            {
                foreach (var budget in new[] { false, true })
                {
                    foreach (var streamed in new[] { false, true })
                    {
                        data.Add(protocol, budget, streamed);
                    }
                }
            }

            return data;
        }
    }

    public sealed class RefundTools
    {
        [AssistantTool("process_refund", Description = "Refunds an order.", RequiresApproval = true)]
        public static string ProcessRefund(string order_id) => $$"""{"order_id":"{{order_id}}","refunded":true}""";
    }

    [Fact]
    public void Formula_ConstantsHaveTheLengthsTheExpectedNumbersAssume()
    {
        Assert.Equal(9, ProtocolKit.Instructions.Length);
        Assert.Equal([21, 20, 36, 4], new[] { Message, Arguments, Output, Reply }.Select(s => s.Length));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PauseThenApprove_TheLedgerHoldsTheWholeRunOnce_AndTheCostMatches(AssistantsProtocol protocol, bool budget, bool streamed)
    {
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b =>
        {
            b.AddTools<RefundTools>();
            if (budget)
            {
                // Far from its limit: it only makes the engine record the steps as the run goes.
                b.AddBudget("tokens", o =>
                {
                    o.Scope = BudgetScope.ConversationKey;
                    o.Unit = BudgetUnit.Tokens;
                    o.Limit = 1_000_000;
                });
            }
        });
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply(Reply);

        var paused = await StartAsync(k.Runner, "refund", streamed);
        var approval = Assert.Single(paused.PendingApprovals);
        var result = await k.Runner.ApproveAsync(approval.ApprovalId);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(Output, Assert.Single(Assert.Single(k.OutputRounds())).Output);
        Assert.Equal(WholeRun, result.Usage);
        var cost = Assert.IsType<RunCostSummary>(result.Cost);
        Assert.Equal(WholeRun, cost.Usage);
        Assert.Equal(WholeRunCost, cost.Cost);

        var ledger = k.Services.GetRequiredService<IUsageLedger>();
        var totals = await ledger.GetTotalsAsync(new UsageQuery { ConversationKey = "refund" });
        Assert.Equal(WholeRun, totals.Usage);
        Assert.Equal(WholeRunCost, totals.Cost);
        Assert.Equal(totals, cost.ConversationTotals);
        var entries = ((InMemoryUsageLedger)ledger).GetEntries(new UsageQuery { ConversationKey = "refund" });
        Assert.Equal(WholeRun, Assert.Single(entries).Usage); // the pause records nothing of its own
    }

    private static async Task<RunResult> StartAsync(AssistantRunner runner, string key, bool streamed)
    {
        if (!streamed)
        {
            return await runner.RunAsync(key, Message);
        }

        RunFinishedEvent? finished = null;
        await foreach (var e in runner.StreamAsync(key, Message))
        {
            finished = e as RunFinishedEvent ?? finished;
        }

        Assert.NotNull(finished);
        Assert.Equal(RunStatus.RequiresAction, finished.Status);
        return finished.Result!;
    }
}
