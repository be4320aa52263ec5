using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Protocols;

/// <summary>
/// The kit's clock in tests of the poll schedule: reads a shared <see cref="FakeTimeProvider"/> (the emulator's too) and
/// reports every wait the kit starts that is no longer than <paramref name="maxWait"/> (the poll delays; the HTTP
/// timeouts are longer), so the test advances the clock by exactly that wait, and only while the kit waits.
/// </summary>
internal sealed class ScheduleClock(FakeTimeProvider time, TimeSpan maxWait) : TimeProvider
{
    private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();

    /// <summary>Gets the waits the clock was advanced by, in order.</summary>
    public List<TimeSpan> Waited { get; } = [];

    public override TimeZoneInfo LocalTimeZone => time.LocalTimeZone;

    public override long TimestampFrequency => time.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => time.GetUtcNow();

    public override long GetTimestamp() => time.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = time.CreateTimer(callback, state, dueTime, period);
        if (dueTime > TimeSpan.Zero && dueTime <= maxWait && period == Timeout.InfiniteTimeSpan)
        {
            _waits.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>Advances the clock by each wait the kit starts, until <paramref name="task"/> ends.</summary>
    public async Task<T> DriveAsync<T>(Task<T> task, int maxWaits = 200)
    {
        for (var i = 0; i < maxWaits; i++)
        {
            var wait = _waits.Reader.ReadAsync().AsTask();
            var first = await Task.WhenAny(task, wait, Task.Delay(TimeSpan.FromSeconds(30)));
            if (first == task)
            {
                return await task;
            }

            if (first != wait)
            {
                throw new TimeoutException("The kit neither finished nor started a wait within 30 seconds.");
            }

            var delay = await wait;
            Waited.Add(delay);
            time.Advance(delay);
        }

        throw new InvalidOperationException($"The task did not end within {maxWaits} waits.");
    }
}
