using System.Text.Json.Nodes;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Tests.Approvals;

public sealed class ApprovalTests
{
    private sealed class Ledger
    {
        private int _refunds;
        private int _lookups;

        public int Refunds => Volatile.Read(ref _refunds);

        public int Lookups => Volatile.Read(ref _lookups);

        public void Refund() => Interlocked.Increment(ref _refunds);

        public void Lookup() => Interlocked.Increment(ref _lookups);
    }

    private sealed class OrderTools(Ledger ledger)
    {
        [AssistantTool("get_order_status", Description = "Looks an order up.")]
        public string GetOrderStatus(string order_id)
        {
            ledger.Lookup();
            return $$"""{"order_id":"{{order_id}}","status":"shipped"}""";
        }

        [AssistantTool("process_refund", Description = "Refunds an order.", RequiresApproval = true)]
        public string ProcessRefund(string order_id)
        {
            ledger.Refund();
            return $$"""{"order_id":"{{order_id}}","refunded":true}""";
        }
    }

    private static async Task<(EmulatorKit Kit, InMemoryConversationStore Store, Ledger Ledger)> StartAsync(bool fakeTime = false, Action<IAssistantsKitBuilder>? kit = null)
    {
        var store = new InMemoryConversationStore();
        var ledger = new Ledger();
        var emulatorKit = await EmulatorKit.StartAsync(
            fakeTime: fakeTime,
            kit: k =>
            {
                k.AddTools<OrderTools>();
                kit?.Invoke(k);
            },
            services: s => s.AddSingleton<IConversationStore>(store).AddSingleton(ledger));
        emulatorKit.Emulator.Script.WhenUserMessageContains("refund")
            .CallTools(("get_order_status", """{"order_id":"ORD-1"}"""), ("process_refund", """{"order_id":"ORD-1"}"""))
            .Reply(ctx => $"status={ctx.ToolOutputs["get_order_status"]} refund={ctx.ToolOutputs["process_refund"]}");
        return (emulatorKit, store, ledger);
    }

    private static ServiceProvider OtherInstance(EmulatorKit kit, InMemoryConversationStore store, Ledger ledger) =>
        kit.NewKit(kit: k => k.AddTools<OrderTools>(), services: s => s.AddSingleton<IConversationStore>(store).AddSingleton(ledger));

    [Fact]
    public async Task GatedAndUngatedCallsInOneAction_UngatedRunsNow_NothingSubmittedUntilApproved()
    {
        var (kit, _, ledger) = await StartAsync();
        await using var _ = kit;

        var paused = await kit.Runner.RunAsync("k", "Please refund ORD-1");

        Assert.Equal(RunStatus.RequiresAction, paused.Status);
        Assert.True(paused.IsAwaitingApproval);
        var approval = Assert.Single(paused.PendingApprovals);
        Assert.Equal("process_refund", approval.ToolName);
        Assert.Equal("""{"order_id":"ORD-1"}""", approval.ArgumentsJson);
        Assert.Equal(ApprovalState.Pending, approval.State);
        Assert.NotNull(approval.ExpiresAt); // the run's expires_at
        Assert.Equal("get_order_status", Assert.Single(paused.ToolCalls).Name);
        Assert.Equal(1, ledger.Lookups);
        Assert.Equal(0, ledger.Refunds);
        Assert.Equal(0, kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/submit_tool_outputs"));

        Assert.Equal(approval, Assert.Single(await kit.Runner.GetPendingApprovalsAsync()));
        Assert.Single(await kit.Runner.GetPendingApprovalsAsync("k", "process_refund"));
        Assert.Empty(await kit.Runner.GetPendingApprovalsAsync("other"));
        Assert.Empty(await kit.Runner.GetPendingApprovalsAsync(toolName: "get_order_status"));
        Assert.Empty(await kit.Runner.GetPendingApprovalsAsync(olderThan: TimeSpan.FromHours(1)));

        await Assert.ThrowsAsync<ConversationAwaitingApprovalException>(() => kit.Runner.RunAsync("k", "hello?"));
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/messages")); // the new message was not sent
    }

    [Fact]
    public async Task ApproveFromAnotherInstance_RunsTheToolOnce_SubmitsOnce_RunCompletes()
    {
        var (kit, store, ledger) = await StartAsync();
        await using var _ = kit;
        var paused = await kit.Runner.RunAsync("k", "Please refund ORD-1");

        await using var other = OtherInstance(kit, store, ledger);
        var result = await other.GetRequiredService<AssistantRunner>().ApproveAsync(paused.PendingApprovals[0].ApprovalId);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("""status={"order_id":"ORD-1","status":"shipped"} refund={"order_id":"ORD-1","refunded":true}""", result.Text);
        Assert.Equal(1, ledger.Refunds);
        Assert.Equal(1, ledger.Lookups); // journaled, not looked up again
        var submit = Assert.Single(kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs"));
        Assert.Equal(2, submit.BodyAsJson()!["tool_outputs"]!.AsArray().Count);
        Assert.Empty(await kit.Runner.GetPendingApprovalsAsync());
        Assert.Null((await store.GetAsync("k", AssistantsProtocol.Assistants))!.Journal);
    }

    [Fact]
    public async Task RejectFromAnotherInstance_TheModelReadsTheRejection_ToolNeverRuns()
    {
        var (kit, store, ledger) = await StartAsync();
        await using var _ = kit;
        var paused = await kit.Runner.RunAsync("k", "Please refund ORD-1");

        await using var other = OtherInstance(kit, store, ledger);
        var result = await other.GetRequiredService<AssistantRunner>().RejectAsync(paused.PendingApprovals[0].ApprovalId, "over the limit");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(0, ledger.Refunds);
        var outputs = kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs").Single().BodyAsJson()!["tool_outputs"]!.AsArray();
        var rejection = JsonNode.Parse(outputs.Single(o => o!["tool_call_id"]!.GetValue<string>() == paused.PendingApprovals[0].ToolCallId)!["output"]!.GetValue<string>())!;
        Assert.Equal("rejected", rejection["error"]!["type"]!.GetValue<string>());
        Assert.Contains("over the limit", rejection["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(result.ToolCalls, c => c.Name == "process_refund" && c.Status == ToolCallStatus.Rejected);
    }

    [Fact]
    public async Task TwoApproversAtOnce_ExactlyOneWins()
    {
        var (kit, store, ledger) = await StartAsync();
        await using var _ = kit;
        var paused = await kit.Runner.RunAsync("k", "Please refund ORD-1");
        var id = paused.PendingApprovals[0].ApprovalId;

        await using var a = OtherInstance(kit, store, ledger);
        await using var b = OtherInstance(kit, store, ledger);
        var outcomes = await Task.WhenAll(
            Capture(() => a.GetRequiredService<AssistantRunner>().ApproveAsync(id)),
            Capture(() => b.GetRequiredService<AssistantRunner>().RejectAsync(id, "no")));

        Assert.Single(outcomes, o => o.Result is { Status: RunStatus.Completed });
        Assert.Single(outcomes, o => o.Error is ApprovalAlreadyDecidedException);
        Assert.True(ledger.Refunds <= 1);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/submit_tool_outputs"));
        await Assert.ThrowsAsync<ApprovalAlreadyDecidedException>(() => kit.Runner.ApproveAsync(id)); // still known after the run ended
    }

    [Fact]
    public async Task Expiry_TheApprovalClosesAsExpired_AndTheConversationStaysUsable()
    {
        var (kit, _, ledger) = await StartAsync(fakeTime: true);
        await using var _ = kit;
        var paused = await kit.DriveAsync(kit.Runner.RunAsync("k", "Please refund ORD-1"), TimeSpan.FromMilliseconds(100));

        kit.Time!.Advance(TimeSpan.FromMinutes(11)); // past the run's expires_at (10 minutes)

        var ex = await Assert.ThrowsAsync<ApprovalExpiredException>(() => kit.Runner.ApproveAsync(paused.PendingApprovals[0].ApprovalId));
        Assert.Equal(RunStatus.Expired, ex.RunStatus);
        Assert.Equal(0, ledger.Refunds);
        var next = await kit.DriveAsync(kit.Runner.RunAsync("k", "hello again"), TimeSpan.FromMilliseconds(100));
        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Empty(kit.Emulator.Requests.Where(r => r.StatusCode >= 400));
    }

    [Fact]
    public async Task ApprovalPredicate_OnlyLargeRefundsNeedApproval()
    {
        var (kit, _, ledger) = await StartAsync(kit: k => k.ConfigureTool("process_refund", p =>
        {
            p.RequiresApproval = false;
            p.RequiresApprovalWhen = call => JsonNode.Parse(call.ArgumentsJson)!["order_id"]!.GetValue<string>() == "ORD-BIG";
        }));
        await using var _ = kit;
        kit.Emulator.Script.WhenUserMessageContains("big")
            .CallTools(("process_refund", """{"order_id":"ORD-BIG"}""")).Reply("done big");

        var small = await kit.Runner.RunAsync("a", "Please refund ORD-1");
        var big = await kit.Runner.RunAsync("b", "a big one");

        Assert.Equal(RunStatus.Completed, small.Status);
        Assert.Equal(RunStatus.RequiresAction, big.Status);
        Assert.Equal("ORD-BIG", JsonNode.Parse(Assert.Single(big.PendingApprovals).ArgumentsJson)!["order_id"]!.GetValue<string>());
        Assert.Equal(1, ledger.Refunds);
    }

    [Fact]
    public async Task ExpiryService_AutoRejectsBeforeTheRunExpires()
    {
        var (kit, _, ledger) = await StartAsync(fakeTime: true, kit: k => k.AddApprovalExpiryService());
        await using var _ = kit;
        var options = kit.Services.GetRequiredService<IOptions<AssistantsKitOptions>>().Value;
        options.Approvals.ExpiryPolicy = ApprovalExpiryPolicy.AutoReject;
        var paused = await kit.DriveAsync(kit.Runner.RunAsync("k", "Please refund ORD-1"), TimeSpan.FromMilliseconds(100));

        kit.Time!.Advance(TimeSpan.FromMinutes(9.5)); // inside the 1-minute margin
        var sweep = kit.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ApprovalExpiryService>().Single();
        await kit.DriveAsync(sweep.SweepAsync(options.Approvals, CancellationToken.None).ContinueWith(_ => true, TaskScheduler.Default), TimeSpan.FromMilliseconds(100));

        Assert.Equal(0, ledger.Refunds);
        Assert.Empty(await kit.Runner.GetPendingApprovalsAsync());
        var outputs = kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs").Single().BodyAsJson()!.ToJsonString();
        Assert.Contains("nobody decided in time", outputs, StringComparison.Ordinal);
        Assert.Equal(paused.RunId, kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs").Single().Path.Split('/')[4]);
    }

    private static async Task<(RunResult? Result, Exception? Error)> Capture(Func<Task<RunResult>> action)
    {
        try
        {
            return (await action(), null);
        }
        catch (AssistantsKitException ex)
        {
            return (null, ex);
        }
    }
}
