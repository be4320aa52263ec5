using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Assistants.Kit.Tests.Protocols;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Approvals;

/// <summary>
/// Approval telemetry, captured with an <see cref="ActivityListener"/> and <see cref="MetricCollector{T}"/>: the
/// <c>assistants_kit.approval.requested</c> event on the paused run's <c>invoke_agent</c> span, the
/// <c>assistants_kit.approval.decided</c> event on the span current when the decision is made (the approver's), the
/// <c>assistants_kit.approvals</c> counter and the <c>assistants_kit.approval.wait</c> histogram, both tagged with the decision.
/// </summary>
public sealed class ApprovalTelemetryTests : IDisposable
{
    private const string Arguments = """{"order_id":"ORD-3"}""";

    private readonly ConcurrentBag<Activity> _activities = [];
    private readonly ActivitySource _approver = new("Assistants.Kit.Tests.Approver." + Guid.NewGuid().ToString("N")); // the app's own span
    private readonly ActivityListener _listener;

    public ApprovalTelemetryTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AssistantsKitTelemetry.ActivitySourceName || source == _approver,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _activities.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

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

    public sealed class RefundTools
    {
        [AssistantTool("process_refund", Description = "Refunds an order.", RequiresApproval = true)]
        public static string ProcessRefund(string order_id) => $$"""{"order_id":"{{order_id}}","refunded":true}""";
    }

    public void Dispose()
    {
        _listener.Dispose();
        _approver.Dispose();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Approval_RequestedEventOnTheRunSpan_DecidedEventOnTheApproversSpan_CounterAndWaitTaggedWithTheDecision(AssistantsProtocol protocol, Outcome outcome)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(
            protocol,
            configure: o => o.Approvals.Timeout = TimeSpan.FromMinutes(30),
            time: time,
            kit: b => b.AddTools<RefundTools>(),
            services: s => s.AddMetrics());
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply("done");
        var meters = k.Services.GetRequiredService<IMeterFactory>();
        using var decisions = new MetricCollector<long>(meters, AssistantsKitTelemetry.MeterName, "assistants_kit.approvals");
        using var waits = new MetricCollector<double>(meters, AssistantsKitTelemetry.MeterName, "assistants_kit.approval.wait");

        var paused = await k.Runner.RunAsync("telemetry", "Refund ORD-3, please.");
        var approval = Assert.Single(paused.PendingApprovals);

        var run = Assert.Single(_activities, a => a.DisplayName.StartsWith("invoke_agent ", StringComparison.Ordinal) && Tag(a, "gen_ai.conversation.id") == paused.ThreadId);
        var requested = Assert.Single(run.Events, e => e.Name == "assistants_kit.approval.requested");
        Assert.Equal(("process_refund", approval.ToolCallId), (Tag(requested, "gen_ai.tool.name"), Tag(requested, "gen_ai.tool.call.id")));
        Assert.DoesNotContain(run.Events, e => e.Name == "assistants_kit.approval.decided");
        Assert.Empty(decisions.GetMeasurementSnapshot());
        Assert.Empty(waits.GetMeasurementSnapshot());

        var wait = outcome == Outcome.Expire ? TimeSpan.FromMinutes(31) : TimeSpan.FromMinutes(4);
        time.Advance(wait);
        using (var approver = _approver.StartActivity("approve refund"))
        {
            Assert.NotNull(approver);
            switch (outcome)
            {
                case Outcome.Approve:
                    await k.Runner.ApproveAsync(approval.ApprovalId);
                    break;
                case Outcome.Reject:
                    await k.Runner.RejectAsync(approval.ApprovalId, "no");
                    break;
                default:
                    await Assert.ThrowsAsync<ApprovalExpiredException>(() => k.Runner.ApproveAsync(approval.ApprovalId));
                    break;
            }
        }

        var decision = outcome switch
        {
            Outcome.Approve => "approved",
            Outcome.Reject => "rejected",
            _ => "expired",
        };
        var approverSpan = Assert.Single(_activities, a => a.Source == _approver);
        Activity span;
        if (outcome == Outcome.Expire)
        {
            // Nothing continues: the event lands on the caller's span.
            span = approverSpan;
            Assert.DoesNotContain(_activities, a => a.ParentSpanId == approverSpan.SpanId && a.DisplayName.StartsWith("invoke_agent ", StringComparison.Ordinal));
        }
        else
        {
            // The rest of the run is its own invoke_agent span, a child of the caller's, ended with the run; the event is on it.
            span = Assert.Single(_activities, a => a.ParentSpanId == approverSpan.SpanId && a.DisplayName.StartsWith("invoke_agent ", StringComparison.Ordinal));
            Assert.Equal((paused.ThreadId, "completed"), (Tag(span, "gen_ai.conversation.id"), Tag(span, "openai.assistants.run.status")));
            Assert.DoesNotContain(approverSpan.Events, e => e.Name == "assistants_kit.approval.decided");
        }

        var decided = Assert.Single(span.Events, e => e.Name == "assistants_kit.approval.decided");
        Assert.Equal(("process_refund", approval.ToolCallId), (Tag(decided, "gen_ai.tool.name"), Tag(decided, "gen_ai.tool.call.id")));

        var counted = Assert.Single(decisions.GetMeasurementSnapshot());
        Assert.Equal((1L, decision), (counted.Value, counted.Tags["assistants_kit.approval.decision"]));
        var waited = Assert.Single(waits.GetMeasurementSnapshot());
        Assert.Equal((wait.TotalSeconds, decision), (waited.Value, waited.Tags["assistants_kit.approval.decision"]));
    }

    private static string? Tag(Activity activity, string name) => activity.GetTagItem(name)?.ToString();

    private static string? Tag(ActivityEvent e, string name) => e.Tags.FirstOrDefault(t => t.Key == name).Value?.ToString();
}
