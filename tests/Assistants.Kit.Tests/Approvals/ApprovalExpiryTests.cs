using Assistants.Kit.Tests.Protocols;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static Assistants.Kit.Tests.Approvals.ApprovalProtocolTests;

namespace Assistants.Kit.Tests.Approvals;

/// <summary>
/// Approvals nobody decides: the approval service's AutoCancel policy, and the kit's own timeout on the Responses
/// protocol (where nothing expires on the server). Time is a <see cref="FakeTimeProvider"/> shared with the emulator.
/// </summary>
public sealed class ApprovalExpiryTests(ITestOutputHelper output)
{
    private const string Arguments = """{"order_id":"ORD-5"}""";

    private static Task<ProtocolKit> StartAsync(AssistantsProtocol protocol, FakeTimeProvider time, RefundLedger ledger, Action<IAssistantsKitBuilder>? kit = null)
    {
        return ProtocolKit.StartAsync(
            protocol,
            configure: o => o.Approvals.Timeout = TimeSpan.FromMinutes(30),
            time: time,
            kit: b =>
            {
                b.AddTools<RefundTools>();
                kit?.Invoke(b);
            },
            services: s => s.AddSingleton(ledger));
    }

    [Fact]
    public async Task ExpiryService_AutoCancel_OnResponses_RejectsTheCallBeforeTheTimeout_NoCancelRequest_ConversationUsable()
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        var ledger = new RefundLedger();
        await using var k = await StartAsync(AssistantsProtocol.Responses, time, ledger, b => b.AddApprovalExpiryService());
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply(ctx => $"told: {ctx.ToolOutputs["process_refund"]}");
        k.Script.OnRun(2).Reply("hello again");
        var options = k.Services.GetRequiredService<IOptions<AssistantsKitOptions>>().Value;
        options.Approvals.ExpiryPolicy = ApprovalExpiryPolicy.AutoCancel;
        var sweep = k.Services.GetServices<IHostedService>().OfType<ApprovalExpiryService>().Single();

        var paused = await k.Runner.RunAsync("cancel-me", "Refund ORD-5, please.");
        var approval = Assert.Single(paused.PendingApprovals);

        // Outside the margin (1 minute before the 30-minute Approvals:Timeout): nothing happens.
        time.Advance(TimeSpan.FromMinutes(28));
        await sweep.SweepAsync(options.Approvals, CancellationToken.None);
        Assert.Single(await k.Runner.GetPendingApprovalsAsync("cancel-me"));
        Assert.Empty(k.OutputRounds());

        // Inside it: no response waits on the server, so the call is rejected and the model is told; the run goes on.
        time.Advance(TimeSpan.FromMinutes(1.5));
        await k.DriveAsync(sweep.SweepAsync(options.Approvals, CancellationToken.None).ContinueWith(_ => true, TaskScheduler.Default), TimeSpan.FromMilliseconds(200));
        Assert.Empty(k.Requests.Where("POST", k.CancelPath));
        var (callId, output) = Assert.Single(Assert.Single(k.OutputRounds()));
        Assert.Equal(approval.ToolCallId, callId);
        Assert.Equal("rejected", (string?)System.Text.Json.Nodes.JsonNode.Parse(output)!["error"]!["type"]);
        Assert.Empty(await k.Runner.GetPendingApprovalsAsync());
        Assert.Equal(0, ledger.Refunds);

        // The next sweep has nothing to do; the conversation goes on.
        await sweep.SweepAsync(options.Approvals, CancellationToken.None);
        Assert.Single(k.OutputRounds());
        var next = await k.DriveAsync(k.Runner.RunAsync("cancel-me", "Hello?"), TimeSpan.FromMilliseconds(200));
        Assert.Equal((RunStatus.Completed, "hello again"), (next.Status, next.Text));
        Assert.Empty(k.Requests.Where(r => r.StatusCode >= 400));
    }

    [Fact]
    public async Task ExpiryService_AutoCancel_CancelsTheRunOnTheServerBeforeItExpires_ClosesTheApproval_ConversationUsable()
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        var ledger = new RefundLedger();
        var observer = new ApprovalObserverTests.RecordingObserver();
        await using var k = await StartAsync(AssistantsProtocol.Assistants, time, ledger, b => b.AddApprovalExpiryService().AddConversationObserver(observer));
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply("refunded");
        k.Script.OnRun(2).Reply("hello again");
        var options = k.Services.GetRequiredService<IOptions<AssistantsKitOptions>>().Value;
        options.Approvals.ExpiryPolicy = ApprovalExpiryPolicy.AutoCancel;
        var sweep = k.Services.GetServices<IHostedService>().OfType<ApprovalExpiryService>().Single();

        var paused = await k.Runner.RunAsync("cancel-me", "Refund ORD-5, please.");
        var approval = Assert.Single(paused.PendingApprovals);

        // Outside the margin (1 minute before the run's 10-minute expiry): nothing happens.
        time.Advance(TimeSpan.FromMinutes(8));
        await sweep.SweepAsync(options.Approvals, CancellationToken.None);
        Assert.Equal(0, k.Requests.Count("POST", k.CancelPath));
        Assert.Single(await k.Runner.GetPendingApprovalsAsync("cancel-me"));

        // Inside it: the run is cancelled on the server, before it expires.
        time.Advance(TimeSpan.FromMinutes(1.5));
        await sweep.SweepAsync(options.Approvals, CancellationToken.None);
        output.WriteLine(k.DescribeRequests());
        var cancel = Assert.Single(k.Requests.Where("POST", k.CancelPath));
        Assert.Equal(paused.RunId, cancel.Path.Split('/')[4]);
        Assert.True(time.GetUtcNow() < approval.ExpiresAt);
        var run = k.Runner.AttachRun(paused.ThreadId, paused.RunId, "cancel-me");
        Assert.Equal(RunStatus.Cancelled, await run.UpdateStatusAsync());

        // The approval is closed as expired (observers told once): no longer pending, a late decision is told it expired
        // (with the run's real end), the tool never ran, nothing was submitted.
        Assert.Empty(await k.Runner.GetPendingApprovalsAsync());
        var (closed, waited) = Assert.Single(observer.Decided);
        Assert.Equal((approval.ApprovalId, ApprovalState.Expired, TimeSpan.FromMinutes(9.5)), (closed.ApprovalId, closed.State, waited));
        var late = await Assert.ThrowsAsync<ApprovalExpiredException>(() => k.Runner.ApproveAsync(approval.ApprovalId));
        Assert.Equal(approval.ApprovalId, late.ApprovalId);
        Assert.Equal(RunStatus.Cancelled, late.RunStatus); // how the run really ended, recorded when the approval closed
        Assert.Single(observer.Decided);
        Assert.Equal(0, ledger.Refunds);
        Assert.Empty(k.OutputRounds());

        // The next sweep has nothing to do.
        await sweep.SweepAsync(options.Approvals, CancellationToken.None);
        Assert.Single(k.Requests.Where("POST", k.CancelPath));

        var next = await k.Runner.RunAsync("cancel-me", "Hello?");
        Assert.Equal((RunStatus.Completed, "hello again"), (next.Status, next.Text));
        Assert.Empty(k.Requests.Where(r => r.StatusCode >= 400));
    }

    [Fact]
    public async Task Responses_AfterTheApprovalTimeout_TheApprovalIsClosedAsExpired_ConversationUsable()
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        var ledger = new RefundLedger();
        await using var k = await StartAsync(AssistantsProtocol.Responses, time, ledger);
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply("refunded");
        k.Script.OnRun(2).Reply("hello again");

        var paused = await k.Runner.RunAsync("late", "Refund ORD-5, please.");
        var approval = Assert.Single(paused.PendingApprovals);
        Assert.Equal(ProtocolKit.Start + TimeSpan.FromMinutes(30), approval.ExpiresAt);

        time.Advance(TimeSpan.FromMinutes(29));
        Assert.Single(await k.Runner.GetPendingApprovalsAsync("late"));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(await k.Runner.GetPendingApprovalsAsync("late")); // past its expiry it can no longer be decided: not listed

        var late = await Assert.ThrowsAsync<ApprovalExpiredException>(() => k.Runner.ApproveAsync(approval.ApprovalId));
        Assert.Equal(approval.ApprovalId, late.ApprovalId);
        Assert.Equal(0, ledger.Refunds);
        Assert.Empty(await k.Runner.GetPendingApprovalsAsync());
        await Assert.ThrowsAsync<ApprovalExpiredException>(() => k.Runner.RejectAsync(approval.ApprovalId, "too late too"));

        var next = await k.Runner.RunAsync("late", "Hello?");
        output.WriteLine(k.DescribeRequests());
        Assert.Equal((RunStatus.Completed, "hello again"), (next.Status, next.Text));
        Assert.Equal(0, ledger.Refunds);
        Assert.Empty(k.Requests.Where(r => r.StatusCode >= 400));

        // The refund's call got an output saying why it never ran (not that a restart interrupted it), before the new
        // message: posted straight into the conversation, with no model turn nobody waits for (two responses: the one that
        // asked for the tool, and the new message's).
        Assert.Equal(2, k.Requests.Count("POST", "/responses"));
        Assert.Empty(k.OutputRounds());
        var (callId, expired) = Assert.Single(k.OutputsPostedAsItems());
        Assert.Equal(approval.ToolCallId, callId);
        var error = System.Text.Json.Nodes.JsonNode.Parse(expired)!["error"]!;
        Assert.Equal("approval_expired", (string?)error["type"]);
        Assert.Contains("process_refund", (string?)error["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Responses_AfterTheApprovalTimeout_NobodyDecided_TheNextMessageClosesItAndRuns()
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        var ledger = new RefundLedger();
        await using var k = await StartAsync(AssistantsProtocol.Responses, time, ledger);
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply("refunded");
        k.Script.OnRun(2).Reply("hello again");

        var paused = await k.Runner.RunAsync("silent", "Refund ORD-5, please.");
        var approval = Assert.Single(paused.PendingApprovals);

        // Before the timeout the conversation waits for the decision.
        time.Advance(TimeSpan.FromMinutes(29));
        await Assert.ThrowsAsync<ConversationAwaitingApprovalException>(() => k.Runner.RunAsync("silent", "Hello?"));

        // After it, nobody having decided, the next message closes the approval (no model turn) and runs.
        time.Advance(TimeSpan.FromMinutes(2));
        var next = await k.Runner.RunAsync("silent", "Hello?");

        Assert.Equal((RunStatus.Completed, "hello again"), (next.Status, next.Text));
        Assert.Equal(2, k.Requests.Count("POST", "/responses"));
        var (callId, output) = Assert.Single(k.OutputsPostedAsItems());
        Assert.Equal((approval.ToolCallId, "approval_expired"), (callId, (string?)System.Text.Json.Nodes.JsonNode.Parse(output)!["error"]!["type"]));
        Assert.Empty(await k.Runner.GetPendingApprovalsAsync());
        await Assert.ThrowsAsync<ApprovalExpiredException>(() => k.Runner.ApproveAsync(approval.ApprovalId));
        Assert.Equal(0, ledger.Refunds);
        Assert.Empty(k.Requests.Where(r => r.StatusCode >= 400));
    }

    [Fact]
    public async Task Responses_BeforeTheApprovalTimeout_ApprovingWorks()
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        var ledger = new RefundLedger();
        await using var k = await StartAsync(AssistantsProtocol.Responses, time, ledger);
        k.Script.OnRun(1).CallTools(("process_refund", Arguments)).Reply(ctx => $"done: {ctx.ToolOutputs["process_refund"]}");

        var paused = await k.Runner.RunAsync("in-time", "Refund ORD-5, please.");
        time.Advance(TimeSpan.FromMinutes(29)); // far beyond anything a server would keep, within the kit's timeout

        var result = await k.Runner.ApproveAsync(Assert.Single(paused.PendingApprovals).ApprovalId);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("""done: {"order_id":"ORD-5","refunded":true}""", result.Text);
        Assert.Equal(1, ledger.Refunds);
    }
}
