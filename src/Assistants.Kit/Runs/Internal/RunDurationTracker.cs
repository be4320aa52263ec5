using System.Collections.Concurrent;

namespace Assistants.Kit.Runs.Internal;

/// <summary>
/// Remembers how long the waits for an assistant's runs took (per kind of wait: the first model turn, or the turn after
/// tool outputs), so the poller can check densely around the expected finish. Thread-safe; bounded memory.
/// </summary>
internal sealed class RunDurationTracker
{
    private const int Capacity = 64;
    private readonly ConcurrentDictionary<string, Samples> _samples = new(StringComparer.Ordinal);

    public void Record(string assistantId, bool afterToolOutputs, TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            return;
        }

        _samples.GetOrAdd(Key(assistantId, afterToolOutputs), static _ => new Samples()).Add(duration);
    }

    public DurationEstimate? Estimate(string assistantId, bool afterToolOutputs, int minObservations)
    {
        return _samples.TryGetValue(Key(assistantId, afterToolOutputs), out var samples)
            ? samples.Estimate(minObservations)
            : null;
    }

    private static string Key(string assistantId, bool afterToolOutputs) => afterToolOutputs ? assistantId + "|tools" : assistantId;

    private sealed class Samples
    {
        private readonly Lock _lock = new();
        private readonly TimeSpan[] _ring = new TimeSpan[Capacity];
        private int _count;
        private int _next;

        public void Add(TimeSpan duration)
        {
            lock (_lock)
            {
                _ring[_next] = duration;
                _next = (_next + 1) % Capacity;
                _count = Math.Min(_count + 1, Capacity);
            }
        }

        public DurationEstimate? Estimate(int minObservations)
        {
            TimeSpan[] sorted;
            lock (_lock)
            {
                if (_count < Math.Max(1, minObservations))
                {
                    return null;
                }

                sorted = _ring[.._count];
            }

            Array.Sort(sorted);
            return new DurationEstimate(Quantile(sorted, 0.1), Quantile(sorted, 0.5), Quantile(sorted, 0.9));
        }

        private static TimeSpan Quantile(TimeSpan[] sorted, double q)
        {
            var position = q * (sorted.Length - 1);
            var lower = (int)Math.Floor(position);
            var upper = (int)Math.Ceiling(position);
            var fraction = position - lower;
            return TimeSpan.FromTicks((long)(sorted[lower].Ticks + ((sorted[upper].Ticks - sorted[lower].Ticks) * fraction)));
        }
    }
}
