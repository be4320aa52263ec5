using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Tools.Wire;

/// <summary>
/// The kit's clock in tests that need exact simulated times: reads a shared <see cref="FakeTimeProvider"/> (the emulator's
/// too) and signals each time the kit starts waiting for a poll delay, so the test advances the clock exactly when the
/// kit waits, by exactly that delay; never while a request is on its way.
/// </summary>
internal sealed class PollingClock(FakeTimeProvider time, TimeSpan pollDelay) : TimeProvider
{
    private readonly SemaphoreSlim _waits = new(0);

    public override TimeZoneInfo LocalTimeZone => time.LocalTimeZone;

    public override long TimestampFrequency => time.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => time.GetUtcNow();

    public override long GetTimestamp() => time.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = time.CreateTimer(callback, state, dueTime, period);
        if (dueTime == pollDelay)
        {
            _ = _waits.Release();
        }

        return timer;
    }

    /// <summary>Advances the clock by the poll delay each time the kit waits for one, until <paramref name="task"/> ends.</summary>
    public async Task<T> DriveAsync<T>(Task<T> task, int maxPolls = 100)
    {
        for (var i = 0; i < maxPolls; i++)
        {
            var waiting = _waits.WaitAsync();
            var first = await Task.WhenAny(task, waiting, Task.Delay(TimeSpan.FromSeconds(30)));
            if (first == task)
            {
                return await task;
            }

            if (first != waiting)
            {
                throw new TimeoutException("The kit neither finished nor waited for a poll delay within 30 seconds.");
            }

            time.Advance(pollDelay);
        }

        throw new InvalidOperationException($"The task did not end within {maxPolls} polls.");
    }
}
