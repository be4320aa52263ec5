using Assistants.Kit.Tests.Support;

namespace Assistants.Kit.Tests.Http;

public sealed class TimeoutTests
{
    [Fact]
    public async Task ResilienceTimeouts_BoundTheHeadersOnly_AFiveSecondStreamSurvivesAOneSecondTimeout()
    {
        // Fake time drives both sides: the emulator holds the run in progress for 5 s and the kit's total and attempt
        // timeouts (1 s) run on the same clock. Were they to bound the body, the first second advanced would cut the stream.
        await using var kit = await EmulatorKit.StartAsync(
            o =>
            {
                o.Http.TotalRequestTimeout = TimeSpan.FromSeconds(1);
                o.Http.AttemptTimeout = TimeSpan.FromSeconds(1);
            },
            e => e.InProgressDuration = TimeSpan.FromSeconds(5),
            fakeTime: true);
        var time = kit.Time!;
        var events = new System.Collections.Concurrent.ConcurrentQueue<RunStreamEvent>();
        var consume = Task.Run(async () =>
        {
            await foreach (var e in kit.Runner.StreamAsync("k", "take your time"))
            {
                events.Enqueue(e);
            }
        });

        // The stream's headers and first event are in before the clock moves: from here on only the body is pending.
        await Waiting.UntilAsync(() => consume.IsCompleted || events.Any(e => e is RunStatusChangedEvent));
        Assert.False(consume.IsCompleted);
        var started = time.GetUtcNow();
        while (!consume.IsCompleted && time.GetUtcNow() - started < TimeSpan.FromSeconds(30))
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(consume, Task.Delay(2));
        }

        await consume.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(time.GetUtcNow() - started >= TimeSpan.FromSeconds(5)); // the body took 5 s of the clock the timeouts run on
        var finished = Assert.IsType<RunFinishedEvent>(events.Last());
        Assert.Equal(RunStatus.Completed, finished.Status);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs")); // one stream, never cut and retried
        Assert.Equal(0, kit.Emulator.Requests.Count("GET", "/threads/*/runs/*")); // and no fallback to polling
    }

    [Fact]
    public async Task TotalTimeout_StillBoundsASlowNonStreamingCall()
    {
        await using var kit = await EmulatorKit.StartAsync(o =>
        {
            o.Http.TotalRequestTimeout = TimeSpan.FromMilliseconds(300);
            o.Http.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.Http.MaxRetryAttempts = 0;
        });
        kit.Emulator.Faults.On("POST", "/threads").OnNth(1).Delay(TimeSpan.FromSeconds(5));

        var ex = await Assert.ThrowsAsync<AssistantsServerException>(() => kit.Runner.RunAsync("k", "hi"));

        Assert.Equal(0, ex.Status);
        Assert.Equal("timeout", ex.ErrorCode);
        Assert.Contains("timed out", ex.Message, StringComparison.Ordinal);
    }
}
