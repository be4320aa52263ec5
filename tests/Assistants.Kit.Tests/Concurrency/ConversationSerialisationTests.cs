using System.Text.Json.Nodes;
using Assistants.Kit.Runs.Internal;
using Assistants.Kit.Tests.Support;

namespace Assistants.Kit.Tests.Concurrency;

public sealed class ConversationSerialisationTests
{
    [Fact]
    public async Task ParallelMessagesOnOneKey_RunOneAfterAnother_InOrder_WithNoRejectedRequest()
    {
        await using var kit = await EmulatorKit.StartAsync();
        const int n = 8;

        // Submitted in order (each call enters the queue before the next is made), then awaited together.
        var runs = new List<Task<RunResult>>();
        for (var i = 0; i < n; i++)
        {
            runs.Add(kit.Runner.RunAsync("shared", $"message {i}"));
        }

        var results = await Task.WhenAll(runs);

        Assert.All(results, r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.Single(results.Select(r => r.ThreadId).Distinct());
        Assert.Empty(kit.Emulator.Requests.Where(r => r.StatusCode >= 400));
        var posted = kit.Emulator.Requests.Where("POST", "/threads/*/messages").Select(r => r.BodyAsJson()!["content"]!.ToString()).ToList();
        Assert.Equal(n, posted.Count);
        Assert.Equal(n, posted.Distinct().Count()); // each message exactly once
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(EmulatorDefault($"message {i}", i), results[i].Text); // the i-th run saw i earlier messages: strict order
        }
    }

    [Fact]
    public async Task CancelActivePolicy_CancelsTheRunningRun_AndTheNewMessageGetsItsOwnRun()
    {
        await using var kit = await EmulatorKit.StartAsync(o => o.Concurrency = ConcurrencyPolicy.CancelActive, e => e.InProgressDuration = TimeSpan.FromMinutes(1), fakeTime: true);

        var first = kit.Runner.RunAsync("k", "first, slow");
        // CancelActive cancels the run the store names: wait until the kit has recorded it, not just requested it.
        await Waiting.UntilAsync(() => kit.Store.GetAsync("k", AssistantsProtocol.Assistants).GetAwaiter().GetResult()?.ActiveRunId is not null);
        kit.Emulator.Options.InProgressDuration = TimeSpan.Zero;
        var second = kit.Runner.RunAsync("k", "second");

        var firstResult = await kit.DriveAsync(first, TimeSpan.FromMilliseconds(200));
        var secondResult = await kit.DriveAsync(second, TimeSpan.FromMilliseconds(200));

        Assert.Equal(RunStatus.Cancelled, firstResult.Status);
        Assert.Equal(RunStatus.Completed, secondResult.Status);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/cancel"));
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/threads/*/messages")); // the first message stays
        Assert.Equal(EmulatorDefault("second", 1), secondResult.Text);
        Assert.Empty(kit.Emulator.Requests.Where(r => r.StatusCode >= 400));
    }

    [Fact]
    public async Task Gate_BookkeepingReturnsToZero_After10000Keys()
    {
        var gate = new ConversationGate();
        var tasks = Enumerable.Range(0, 10_000).Select(async i =>
        {
            using var turn = await gate.EnterAsync("key-" + (i % 2_500).ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);
            await Task.Yield();
        });
        await Task.WhenAll(tasks);

        Assert.Equal(0, gate.Count);
    }

    [Fact]
    public async Task Gate_ServesWaitersInArrivalOrder_AndACancelledWaiterLeavesNoTrace()
    {
        var gate = new ConversationGate();
        var order = new List<int>();
        var first = await gate.EnterAsync("k", CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var waiters = new List<Task>();
        for (var i = 1; i <= 3; i++)
        {
            var id = i;
            var token = id == 2 ? cts.Token : CancellationToken.None;
            waiters.Add(Task.Run(async () =>
            {
                using var turn = await gate.EnterAsync("k", token);
                lock (order)
                {
                    order.Add(id);
                }
            }));
            await Waiting.UntilAsync(() => gate.Count == 1); // queued before the next one arrives
            await Task.Delay(20);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiters[1]);
        first.Dispose();
        await Task.WhenAll(waiters[0], waiters[2]);

        Assert.Equal([1, 3], order);
        Assert.Equal(0, gate.Count);
    }

    private static string EmulatorDefault(string message, int earlier) => Testing.EmulatorScript.DefaultReply(message, earlier);
}
