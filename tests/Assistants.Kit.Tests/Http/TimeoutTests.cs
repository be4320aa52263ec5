using Assistants.Kit.Tests.Support;

namespace Assistants.Kit.Tests.Http;

public sealed class TimeoutTests
{
    [Fact]
    public async Task ResilienceTimeouts_BoundTheHeadersOnly_ALongStreamSurvivesThem()
    {
        // Real time on purpose: a stream whose body takes ~3 s, under 1 s total and attempt timeouts.
        await using var kit = await EmulatorKit.StartAsync(
            o =>
            {
                o.Http.TotalRequestTimeout = TimeSpan.FromSeconds(1);
                o.Http.AttemptTimeout = TimeSpan.FromSeconds(1);
            },
            e => e.InProgressDuration = TimeSpan.FromSeconds(3));

        var started = DateTimeOffset.UtcNow;
        RunFinishedEvent? finished = null;
        await foreach (var e in kit.Runner.StreamAsync("k", "take your time"))
        {
            finished = e as RunFinishedEvent ?? finished;
        }

        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(2.5));
        Assert.Equal(RunStatus.Completed, finished!.Status);
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
