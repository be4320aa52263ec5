using System.Text.Json.Nodes;
using Assistants.Kit.Tests.Protocols;
using Microsoft.Extensions.DependencyInjection;
using static Assistants.Kit.Tests.Approvals.ApprovalProtocolTests;

namespace Assistants.Kit.Tests.Approvals;

/// <summary>
/// Deciding an approval and continuing the run as a stream (<see cref="AssistantRunner.ApproveStreamAsync"/>,
/// <see cref="AssistantRunner.RejectStreamAsync"/>), on both protocols: the outputs go out with the streaming submit
/// (Assistants) or in the run's next streamed response (Responses), and the rest of the run arrives as events.
/// </summary>
public sealed class ApprovalStreamTests
{
    private const string Arguments = """{"order_id":"ORD-9"}""";

    public static TheoryData<AssistantsProtocol> Protocols => new() { AssistantsProtocol.Assistants, AssistantsProtocol.Responses };

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ApproveStream_RunsTheToolOnce_ThenStreamsTheReply_FromAnotherInstance(AssistantsProtocol protocol)
    {
        using var folder = new TempFolder();
        var database = folder.File("conversations.db");
        var ledger = new RefundLedger();
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddTools<RefundTools>().AddSqliteStore(database), services: s => s.AddSingleton(ledger));
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply(ctx => $"done: {ctx.ToolOutputs["process_refund"]}");
        var approval = Assert.Single((await k.Runner.RunAsync("refund", "Refund ORD-9, please.")).PendingApprovals);

        await using var other = k.NewKit(kit: b => b.AddTools<RefundTools>().AddSqliteStore(database), services: s => s.AddSingleton(ledger));
        var events = await CollectAsync(other.GetRequiredService<AssistantRunner>().ApproveStreamAsync(approval.ApprovalId));

        // The approved call's output first, then the reply as deltas, then exactly one finish, last.
        var completed = Assert.Single(events.OfType<ToolCallCompletedEvent>());
        Assert.Equal((approval.ToolCallId, """{"order_id":"ORD-9","refunded":true}"""), (completed.ToolCallId, completed.Record!.Output));
        var deltas = events.OfType<TextDeltaEvent>().ToList();
        Assert.NotEmpty(deltas);
        Assert.True(events.IndexOf(completed) < events.IndexOf(deltas[0]));
        var finished = Assert.IsType<RunFinishedEvent>(events[^1]);
        Assert.Single(events.OfType<RunFinishedEvent>());
        var result = finished.Result!;
        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("""done: {"order_id":"ORD-9","refunded":true}""", result.Text);
        Assert.Equal(result.Text, string.Concat(deltas.Select(d => d.Text)));
        Assert.Contains(result.ToolCalls, c => c.ToolCallId == approval.ToolCallId && c.Status == ToolCallStatus.Succeeded);
        Assert.Equal(1, ledger.Refunds);
        Assert.All(events, e => Assert.NotNull(e.RunId));
        if (protocol == AssistantsProtocol.Assistants)
        {
            Assert.All(events, e => Assert.Equal(approval.RunId, e.RunId)); // the same run goes on
        }

        // On the wire: one output round, sent with a streaming request; nothing polled.
        Assert.Equal((approval.ToolCallId, """{"order_id":"ORD-9","refunded":true}"""), Assert.Single(Assert.Single(k.OutputRounds())));
        var continuation = protocol == AssistantsProtocol.Responses
            ? k.Requests.Where("POST", "/responses")[^1]
            : Assert.Single(k.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs"));
        Assert.True((bool?)continuation.BodyAsJson()!["stream"]);
        if (protocol == AssistantsProtocol.Responses)
        {
            // The response that asked for the tool is the run's first step; its usage counts in the run's.
            Assert.Equal(2, result.Steps.Count);
            Assert.Equal(result.Steps.Sum(s => s.Usage!.Value.TotalTokens), result.Usage!.Value.TotalTokens);
        }

        Assert.Empty(await k.Runner.GetPendingApprovalsAsync());
        await Assert.ThrowsAsync<ApprovalAlreadyDecidedException>(async () => await CollectAsync(k.Runner.ApproveStreamAsync(approval.ApprovalId)));
        Assert.Equal(1, ledger.Refunds);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task RejectStream_TheModelReadsTheRejection_AndTheReplyStreams(AssistantsProtocol protocol)
    {
        var ledger = new RefundLedger();
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddTools<RefundTools>(), services: s => s.AddSingleton(ledger));
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply(ctx => $"said: {ctx.ToolOutputs["process_refund"]}");
        k.Script.OnRun(2).Reply("next");
        var approval = Assert.Single((await k.Runner.RunAsync("refund", "Refund ORD-9, please.")).PendingApprovals);

        var events = await CollectAsync(k.Runner.RejectStreamAsync(approval.ApprovalId, "over the limit"));

        Assert.Equal(0, ledger.Refunds);
        var (_, output) = Assert.Single(Assert.Single(k.OutputRounds()));
        Assert.Equal("rejected", (string?)JsonNode.Parse(output)!["error"]!["type"]);
        var rejected = Assert.Single(events.OfType<ToolCallCompletedEvent>());
        Assert.Equal(ToolCallStatus.Rejected, rejected.Record!.Status);
        var result = Assert.IsType<RunFinishedEvent>(events[^1]).Result!;
        Assert.Equal($"said: {output}", result.Text);
        Assert.Equal(result.Text, string.Concat(events.OfType<TextDeltaEvent>().Select(d => d.Text)));

        // The conversation goes on.
        Assert.Equal("next", (await k.Runner.RunAsync("refund", "Anything else?")).Text);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ApproveStream_WithAnotherCallStillUndecided_StaysPaused_AndSendsNothing(AssistantsProtocol protocol)
    {
        var ledger = new RefundLedger();
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddTools<RefundTools>(), services: s => s.AddSingleton(ledger));
        k.Script.OnRun(1).CallTools(("process_refund", Arguments), ("process_refund", """{"order_id":"ORD-10"}""")).Reply("both decided");
        var pending = (await k.Runner.RunAsync("refund", "Refund ORD-9 and ORD-10.")).PendingApprovals;
        Assert.Equal(2, pending.Count);

        var first = await CollectAsync(k.Runner.ApproveStreamAsync(pending[0].ApprovalId));

        // The approved call finished (its event), the other still waits: the stream ends paused.
        Assert.Equal(2, first.Count);
        Assert.Equal(pending[0].ToolCallId, Assert.IsType<ToolCallCompletedEvent>(first[0]).ToolCallId);
        var paused = Assert.IsType<RunFinishedEvent>(first[1]);
        Assert.Equal(RunStatus.RequiresAction, paused.Status);
        Assert.Equal(pending[1].ApprovalId, Assert.Single(paused.Result!.PendingApprovals).ApprovalId);
        Assert.Empty(k.OutputRounds());
        Assert.Equal(1, ledger.Refunds);

        var second = await CollectAsync(k.Runner.ApproveStreamAsync(pending[1].ApprovalId));

        Assert.Equal(2, second.OfType<ToolCallCompletedEvent>().Count());
        Assert.Equal("both decided", Assert.IsType<RunFinishedEvent>(second[^1]).Result!.Text);
        Assert.Equal(2, Assert.Single(k.OutputRounds()).Count);
        Assert.Equal(2, ledger.Refunds);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task StreamedPause_ReportsTheRoundsFinishedCalls_BeforeItEnds(AssistantsProtocol protocol)
    {
        var ledger = new RefundLedger();
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddTools<RefundTools>().AddTools<ScenarioTools>(), services: s => s.AddSingleton(ledger).AddSingleton<ScenarioProbe>());
        k.Script.OnRun(1).CallTools(("get_weather", """{"city":"Paris"}"""), ("process_refund", Arguments)).Reply("both");

        var events = await CollectAsync(k.Runner.StreamAsync("refund", "Weather, and refund ORD-9."));

        // The ungated call ran at once: its completion is in the stream, before the paused finish.
        var weather = Assert.Single(events.OfType<ToolCallCompletedEvent>());
        Assert.Equal(("get_weather", ScenarioTools.ParisOutput), (weather.Record!.Name, weather.Record.Output));
        var paused = Assert.IsType<RunFinishedEvent>(events[^1]);
        Assert.Equal("process_refund", Assert.Single(paused.Result!.PendingApprovals).ToolName);

        // Deciding continues the round: both outputs go out once, together.
        var rest = await CollectAsync(k.Runner.ApproveStreamAsync(paused.Result.PendingApprovals[0].ApprovalId));
        Assert.Equal("both", Assert.IsType<RunFinishedEvent>(rest[^1]).Result!.Text);
        Assert.Equal(2, Assert.Single(k.OutputRounds()).Count);
    }

    [Fact]
    public async Task ApproveStream_UnknownApproval_IsATypedError()
    {
        await using var k = await ProtocolKit.StartAsync(AssistantsProtocol.Assistants, kit: b => b.AddTools<RefundTools>(), services: s => s.AddSingleton(new RefundLedger()));

        await Assert.ThrowsAsync<ApprovalNotFoundException>(async () => await CollectAsync(k.Runner.ApproveStreamAsync("apr_not-an-approval")));
        Assert.Throws<ArgumentException>(() => k.Runner.RejectStreamAsync(" ", "why"));
    }

    private static async Task<List<RunStreamEvent>> CollectAsync(IAsyncEnumerable<RunStreamEvent> events)
    {
        var list = new List<RunStreamEvent>();
        await foreach (var e in events)
        {
            list.Add(e);
        }

        return list;
    }
}
