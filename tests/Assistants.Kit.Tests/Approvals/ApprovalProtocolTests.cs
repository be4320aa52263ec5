using System.Text.Json.Nodes;
using Assistants.Kit.Tests.Protocols;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Approvals;

/// <summary>
/// Approvals on both protocols, polled and streamed: the run pauses before the gated call, a second instance sharing the
/// durable store decides, and the run goes on there. On Responses the paused "run" is the response that asked for the
/// tools; the outputs go in the run's next response.
/// </summary>
public sealed class ApprovalProtocolTests
{
    private const string Arguments = """{"order_id":"ORD-9"}""";

    public static TheoryData<AssistantsProtocol, bool> ProtocolsPolledAndStreamed => new()
    {
        { AssistantsProtocol.Assistants, false },
        { AssistantsProtocol.Assistants, true },
        { AssistantsProtocol.Responses, false },
        { AssistantsProtocol.Responses, true },
    };

    public sealed class RefundLedger
    {
        private int _refunds;

        public int Refunds => Volatile.Read(ref _refunds);

        public void Refund() => Interlocked.Increment(ref _refunds);
    }

    public sealed class RefundTools(RefundLedger ledger)
    {
        [AssistantTool("process_refund", Description = "Refunds an order.", RequiresApproval = true)]
        public string ProcessRefund(string order_id)
        {
            ledger.Refund();
            return $$"""{"order_id":"{{order_id}}","refunded":true}""";
        }
    }

    [Theory]
    [MemberData(nameof(ProtocolsPolledAndStreamed))]
    public async Task Approve_OnAnotherInstance_RunsTheToolOnce_AndTheRunCompletesWithBothSteps(AssistantsProtocol protocol, bool streamed)
    {
        using var folder = new TempFolder();
        var database = folder.File("conversations.db");
        var ledger = new RefundLedger();
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddTools<RefundTools>().AddSqliteStore(database), services: s => s.AddSingleton(ledger));
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply(ctx => $"done: {ctx.ToolOutputs["process_refund"]}");

        var paused = await StartAsync(k.Runner, "refund", streamed);

        Assert.Equal(RunStatus.RequiresAction, paused.Status);
        var approval = Assert.Single(paused.PendingApprovals);
        Assert.Equal(("process_refund", Arguments, protocol), (approval.ToolName, approval.ArgumentsJson, approval.Protocol));
        Assert.StartsWith(k.RunPrefix, approval.RunId, StringComparison.Ordinal);
        Assert.Equal(0, ledger.Refunds);
        Assert.Equal(1, k.ModelRequests()); // nothing sent after the model asked for the tool
        Assert.Empty(k.OutputRounds());

        await using var other = k.NewKit(kit: b => b.AddTools<RefundTools>().AddSqliteStore(database), services: s => s.AddSingleton(ledger));
        var otherRunner = other.GetRequiredService<AssistantRunner>();
        var pending = Assert.Single(await otherRunner.GetPendingApprovalsAsync("refund"));
        Assert.Equal(approval.ApprovalId, pending.ApprovalId);

        var result = await otherRunner.ApproveAsync(approval.ApprovalId);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("""done: {"order_id":"ORD-9","refunded":true}""", result.Text);
        Assert.Equal(1, ledger.Refunds);
        var round = Assert.Single(k.OutputRounds());
        Assert.Equal((approval.ToolCallId, """{"order_id":"ORD-9","refunded":true}"""), Assert.Single(round));
        Assert.Equal(2, k.ModelRequests());
        Assert.Contains(result.ToolCalls, c => c.Name == "process_refund" && c.ToolCallId == approval.ToolCallId);
        if (protocol == AssistantsProtocol.Responses)
        {
            // The response that asked for the tool is the run's first step; its usage counts in the run's.
            Assert.Equal(2, result.Steps.Count);
            Assert.Equal(result.Steps.Sum(s => s.Usage!.Value.TotalTokens), result.Usage!.Value.TotalTokens);
        }

        Assert.Empty(await k.Runner.GetPendingApprovalsAsync());
        await Assert.ThrowsAsync<ApprovalAlreadyDecidedException>(() => k.Runner.ApproveAsync(approval.ApprovalId));
        Assert.Equal(1, ledger.Refunds);
    }

    [Theory]
    [MemberData(nameof(ProtocolsPolledAndStreamed))]
    public async Task Reject_TheModelReadsTheRejection_TheToolNeverRuns(AssistantsProtocol protocol, bool streamed)
    {
        var ledger = new RefundLedger();
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddTools<RefundTools>(), services: s => s.AddSingleton(ledger));
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply(ctx => $"said: {ctx.ToolOutputs["process_refund"]}");

        var paused = await StartAsync(k.Runner, "refund", streamed);
        var result = await k.Runner.RejectAsync(Assert.Single(paused.PendingApprovals).ApprovalId, "over the limit");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(0, ledger.Refunds);
        var (_, output) = Assert.Single(Assert.Single(k.OutputRounds()));
        var error = JsonNode.Parse(output)!["error"]!;
        Assert.Equal("rejected", (string?)error["type"]);
        Assert.Contains("over the limit", (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal($"said: {output}", result.Text);
        Assert.Contains(result.ToolCalls, c => c.Name == "process_refund" && c.Status == ToolCallStatus.Rejected);
    }

    [Theory]
    [MemberData(nameof(ProtocolsPolledAndStreamed))]
    public async Task NewMessageWhilePaused_IsRefused_UntilDecided(AssistantsProtocol protocol, bool streamed)
    {
        var ledger = new RefundLedger();
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddTools<RefundTools>(), services: s => s.AddSingleton(ledger));
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply("refunded");
        k.Script.OnRun(2).Reply("next");

        var paused = await StartAsync(k.Runner, "refund", streamed);
        var before = k.Requests.All.Count;

        var refused = await Assert.ThrowsAsync<ConversationAwaitingApprovalException>(() => k.Runner.RunAsync("refund", "Anything else?"));
        Assert.Contains(refused.Approvals, a => a.ApprovalId == paused.PendingApprovals[0].ApprovalId);
        
        // Only a read of the paused run (is it still waiting?); nothing written, no message added.
        Assert.All(k.Requests.All.Skip(before), r => Assert.Equal("GET", r.Method));

        await k.Runner.ApproveAsync(paused.PendingApprovals[0].ApprovalId);
        var next = await k.Runner.RunAsync("refund", "Anything else?");
        Assert.Equal("next", next.Text);
    }

    private static async Task<RunResult> StartAsync(AssistantRunner runner, string key, bool streamed)
    {
        if (!streamed)
        {
            return await runner.RunAsync(key, "Refund ORD-9, please.");
        }

        RunFinishedEvent? finished = null;
        await foreach (var e in runner.StreamAsync(key, "Refund ORD-9, please."))
        {
            finished = e as RunFinishedEvent ?? finished;
        }

        Assert.NotNull(finished);
        Assert.Equal(RunStatus.RequiresAction, finished.Status);
        return finished.Result!;
    }
}
