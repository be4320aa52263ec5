using Assistants.Kit.Tests.Support;

namespace Assistants.Kit.Tests.Runs;

/// <summary>
/// When a failed run is re-run (<see cref="FailedRunRetryOptions"/>, waits on the fake clock), and how long a caller's
/// cancellation waits for the server to cancel the run (<see cref="AssistantsKitOptions.CancelRunTimeout"/>).
/// </summary>
public sealed class RunRecoveryTimingTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(7); // no other timer of the kit or emulator has this due time

    [Fact]
    public async Task FailedRunRerun_WaitsExactlyTheDelay_ThenTwiceTheDelay_BeforeEachRerun()
    {
        var time = new TimerRecordingTimeProvider();
        await using var kit = await EmulatorKit.StartAsync(o =>
        {
            o.FailedRunRetry.MaxAttempts = 2;
            o.FailedRunRetry.Delay = Delay;
        }, time: time);
        kit.Emulator.Script.OnRun(1).Fail("server_error", "Oops.");
        kit.Emulator.Script.OnRun(2).Fail("rate_limit_exceeded", "Slow down.");
        kit.Emulator.Script.OnRun(3).Reply("third time");
        int Runs() => kit.Emulator.Requests.Count("POST", "/threads/*/runs");

        var run = kit.Runner.RunAsync("k", "retry me");

        await ExpectRerunAfterAsync(Delay, expectedRunsBefore: 1);
        await ExpectRerunAfterAsync(Delay * 2, expectedRunsBefore: 2);
        var result = await kit.DriveAsync(run, TimeSpan.FromMilliseconds(100));

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("third time", result.Text);
        Assert.Equal(3, Runs());

        async Task ExpectRerunAfterAsync(TimeSpan wait, int expectedRunsBefore)
        {
            // Let the kit poll (small steps) until it has started waiting before the re-run.
            for (var i = 0; time.CreatedAt(wait) is null; i++)
            {
                Assert.True(i < 2_000, "The kit never started waiting " + wait + " before a re-run.");
                await Task.Delay(2);
                if (time.CreatedAt(wait) is null)
                {
                    time.Advance(TimeSpan.FromMilliseconds(50));
                }
            }

            var due = time.CreatedAt(wait)!.Value + wait;
            await Task.Delay(100); // a re-run sent without waiting would reach the loopback emulator by now
            Assert.Equal(expectedRunsBefore, Runs());

            time.Advance(due - time.GetUtcNow() - TimeSpan.FromMilliseconds(1));
            await Task.Delay(100);
            Assert.Equal(expectedRunsBefore, Runs());
            Assert.False(run.IsCompleted);

            time.Advance(TimeSpan.FromMilliseconds(1));
            await Waiting.UntilAsync(() => Runs() == expectedRunsBefore + 1);
        }
    }

    [Fact]
    public async Task CallerCancellation_WithAHangingCancelEndpoint_ReturnsAtCancelRunTimeout_AndLogsIt()
    {
        // Fake clock: the cancel request hangs for 10 s of emulator time; the kit gives up on it after CancelRunTimeout.
        var cancelTimeout = TimeSpan.FromSeconds(3);
        await using var kit = await EmulatorKit.StartAsync(
            o => o.CancelRunTimeout = cancelTimeout,
            e => e.InProgressDuration = TimeSpan.FromMinutes(1),
            fakeTime: true);
        kit.Emulator.Faults.On("POST", "/threads/*/runs/*/cancel").Delay(TimeSpan.FromSeconds(10));
        using var cts = new CancellationTokenSource();
        var time = kit.Time!;

        var operation = await kit.Runner.StartRunAsync("k", "slow");
        var wait = operation.WaitForCompletionAsync(cts.Token);
        for (var i = 0; kit.Emulator.Requests.Count("GET", "/threads/*/runs/*") == 0; i++)
        {
            Assert.True(i < 1_000, "The kit never polled.");
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }

        await cts.CancelAsync();
        await Waiting.UntilAsync(() => kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/cancel") == 1);

        // Just before the bound the caller is still waiting for the cancel; at the bound the wait ends, cancelled.
        time.Advance(cancelTimeout - TimeSpan.FromMilliseconds(1));
        await Task.Delay(100); // a wait that did not hold for the cancel would have ended by now
        Assert.False(wait.IsCompleted, "the kit did not wait for the server-side cancel");
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));

        var cancel = Assert.Single(kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/cancel"));
        Assert.EndsWith($"/runs/{operation.Id}/cancel", cancel.Path, StringComparison.Ordinal);
        var lines = kit.Services.LogLines();
        Assert.Contains(lines, l => l.StartsWith("Warning", StringComparison.Ordinal)
            && l.Contains($"The wait for run {operation.Id} on {operation.ThreadId} was cancelled by the caller; cancelling the run on the server.", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning", StringComparison.Ordinal)
            && l.Contains($"Cancelling run {operation.Id} on {operation.ThreadId} failed.", StringComparison.Ordinal)
            && l.Contains("Canceled", StringComparison.Ordinal));
    }
}
