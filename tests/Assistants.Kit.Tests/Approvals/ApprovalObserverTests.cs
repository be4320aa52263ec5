using System.Collections.Concurrent;
using Assistants.Kit.Tests.Protocols;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Approvals;

/// <summary>
/// The approval hooks of <see cref="IConversationObserver"/>: requested once per gated call (never for an ungated one in
/// the same round), decided once with the final state and how long the approval waited, on both protocols. The clock is
/// a <see cref="FakeTimeProvider"/> shared with the emulator; polling waits 0 ms, so only the test moves time.
/// </summary>
public sealed class ApprovalObserverTests
{
    private const string RefundArguments = """{"order_id":"ORD-7"}""";

    public enum Outcome
    {
        Approve,
        Reject,
        Expire,
    }

    public static TheoryData<AssistantsProtocol, Outcome> Cases
    {
        get
        {
            var data = new TheoryData<AssistantsProtocol, Outcome>();
            foreach (var protocol in new[] { AssistantsProtocol.Assistants, AssistantsProtocol.Responses })
            {
                foreach (var outcome in Enum.GetValues<Outcome>())
                {
                    data.Add(protocol, outcome);
                }
            }

            return data;
        }
    }

    public sealed class Tools
    {
        [AssistantTool("get_order_status", Description = "Looks an order up.")]
        public static string GetOrderStatus(string order_id) => $$"""{"order_id":"{{order_id}}","status":"shipped"}""";

        [AssistantTool("process_refund", Description = "Refunds an order.", RequiresApproval = true)]
        public static string ProcessRefund(string order_id) => $$"""{"order_id":"{{order_id}}","refunded":true}""";
    }

    public sealed class RecordingObserver : IConversationObserver
    {
        public ConcurrentQueue<ToolApproval> Requested { get; } = new();

        public ConcurrentQueue<(ToolApproval Approval, TimeSpan Waited)> Decided { get; } = new();

        public ValueTask OnApprovalRequestedAsync(ToolApproval approval, CancellationToken cancellationToken)
        {
            Requested.Enqueue(approval);
            return ValueTask.CompletedTask;
        }

        public ValueTask OnApprovalDecidedAsync(ToolApproval approval, TimeSpan waited, CancellationToken cancellationToken)
        {
            Decided.Enqueue((approval, waited));
            return ValueTask.CompletedTask;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Observer_RequestedOncePerGatedCall_DecidedOnceWithStateAndWaitedTime(AssistantsProtocol protocol, Outcome outcome)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        var observer = new RecordingObserver();
        await using var k = await ProtocolKit.StartAsync(
            protocol,
            configure: o => o.Approvals.Timeout = TimeSpan.FromMinutes(30), // Responses: nothing expires on the server
            time: time,
            kit: b => b.AddTools<Tools>().AddConversationObserver(observer));
        k.Script.OnRun(1)
            .CallTools(("get_order_status", """{"order_id":"ORD-7"}"""), ("process_refund", RefundArguments))
            .Reply("done");
        var requestedAt = time.GetUtcNow();

        var paused = await k.Runner.RunAsync("obs", "Refund ORD-7, please.");

        Assert.Equal(RunStatus.RequiresAction, paused.Status);
        var requested = Assert.Single(observer.Requested); // the ungated lookup ran without one
        Assert.Equal(Assert.Single(paused.PendingApprovals), requested);
        Assert.Equal(
            ("obs", protocol, paused.ThreadId, paused.RunId, "process_refund", RefundArguments, ApprovalState.Pending, requestedAt),
            (requested.ConversationKey, requested.Protocol, requested.ThreadId, requested.RunId, requested.ToolName, requested.ArgumentsJson, requested.State, requested.RequestedAt));
        Assert.StartsWith("apr_", requested.ApprovalId, StringComparison.Ordinal);
        Assert.DoesNotContain(paused.ToolCalls, c => c.ToolCallId == requested.ToolCallId);
        Assert.Contains(paused.ToolCalls, c => c.Name == "get_order_status");

        // Assistants: the run's expires_at (10 minutes after it was created); Responses: the kit's Approvals.Timeout.
        Assert.Equal(requestedAt + TimeSpan.FromMinutes(protocol == AssistantsProtocol.Assistants ? 10 : 30), requested.ExpiresAt);
        Assert.Empty(observer.Decided);

        var wait = outcome == Outcome.Expire ? TimeSpan.FromMinutes(31) : TimeSpan.FromMinutes(3);
        time.Advance(wait);
        switch (outcome)
        {
            case Outcome.Approve:
                Assert.Equal(RunStatus.Completed, (await k.Runner.ApproveAsync(requested.ApprovalId)).Status);
                break;
            case Outcome.Reject:
                Assert.Equal(RunStatus.Completed, (await k.Runner.RejectAsync(requested.ApprovalId, "no")).Status);
                break;
            default:
                await Assert.ThrowsAsync<ApprovalExpiredException>(() => k.Runner.ApproveAsync(requested.ApprovalId));
                break;
        }

        var state = outcome switch
        {
            Outcome.Approve => ApprovalState.Approved,
            Outcome.Reject => ApprovalState.Rejected,
            _ => ApprovalState.Expired,
        };
        var (decided, waited) = Assert.Single(observer.Decided);
        Assert.Equal(requested with { State = state }, decided);
        Assert.Equal(wait, waited);

        // A second attempt is refused and raises nothing more.
        await Assert.ThrowsAnyAsync<AssistantsKitException>(() => k.Runner.RejectAsync(requested.ApprovalId, "again"));
        Assert.Single(observer.Decided);
        Assert.Single(observer.Requested);
    }
}
