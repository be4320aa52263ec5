namespace Assistants.Kit.Runs.Internal;

/// <summary>
/// Serialises runs per conversation key in this process: one holder at a time, waiters served in arrival order
/// (FIFO). Bookkeeping is removed when a key has no holder and no waiter, so memory returns to zero.
/// </summary>
internal sealed class ConversationGate
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Gets the number of keys with a holder or waiters (0 when idle).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public async ValueTask<Holder> EnterAsync(string key, CancellationToken cancellationToken)
    {
        TaskCompletionSource? turn = null;
        Entry entry;
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out entry!))
            {
                entry = new Entry();
                _entries[key] = entry;
            }

            entry.Count++;
            if (entry.Count > 1)
            {
                turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                entry.Waiters.Enqueue(turn);
            }
        }

        if (turn is not null)
        {
            try
            {
                await turn.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                var handOn = false;
                lock (_lock)
                {
                    if (turn.Task.IsCompleted)
                    {
                        handOn = true; // the turn arrived as we gave up: pass it on
                    }
                    else
                    {
                        var remaining = entry.Waiters.Where(w => w != turn).ToArray();
                        entry.Waiters.Clear();
                        foreach (var waiter in remaining)
                        {
                            entry.Waiters.Enqueue(waiter);
                        }

                        Leave(key, entry);
                    }
                }

                if (handOn)
                {
                    Release(key);
                }

                throw;
            }
        }

        return new Holder(this, key);
    }

    private void Release(string key)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                return;
            }

            Leave(key, entry);
            if (entry.Waiters.TryDequeue(out var next))
            {
                next.TrySetResult();
            }
        }
    }

    private void Leave(string key, Entry entry)
    {
        entry.Count--;
        if (entry.Count == 0)
        {
            _entries.Remove(key);
        }
    }

    /// <summary>The right to run on one key; dispose to hand it to the next waiter.</summary>
    public sealed class Holder : IDisposable
    {
        private readonly ConversationGate _gate;
        private readonly string _key;
        private int _released;

        internal Holder(ConversationGate gate, string key)
        {
            _gate = gate;
            _key = key;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _gate.Release(_key);
            }
        }
    }

    private sealed class Entry
    {
        public int Count { get; set; }

        public Queue<TaskCompletionSource> Waiters { get; } = new();
    }
}
