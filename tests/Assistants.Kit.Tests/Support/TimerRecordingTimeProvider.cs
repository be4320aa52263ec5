using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Support;

/// <summary>A fake clock that records every timer created on it: its due time and the (fake) time it was created at.</summary>
internal sealed class TimerRecordingTimeProvider() : FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T12:00:00Z", global::System.Globalization.CultureInfo.InvariantCulture))
{
    private readonly ConcurrentQueue<(TimeSpan DueTime, DateTimeOffset CreatedAt)> _timers = new();

    public IReadOnlyCollection<(TimeSpan DueTime, DateTimeOffset CreatedAt)> Timers => _timers;

    /// <summary>Gets when the first timer of <paramref name="dueTime"/> was created, or null.</summary>
    public DateTimeOffset? CreatedAt(TimeSpan dueTime) =>
        _timers.Where(t => t.DueTime == dueTime).Select(t => (DateTimeOffset?)t.CreatedAt).FirstOrDefault();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _timers.Enqueue((dueTime, GetUtcNow()));
        return base.CreateTimer(callback, state, dueTime, period);
    }
}
