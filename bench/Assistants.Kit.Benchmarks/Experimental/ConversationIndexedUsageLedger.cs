namespace Assistants.Kit.Benchmarks.Experimental;

/// <summary>
/// EXPERIMENT (bench only, never shipped): the kit's <see cref="InMemoryUsageLedger"/> with the entries also indexed by
/// conversation key, so the query every run makes at its end (<c>RunAccountingSession.CompleteAsync</c>: the
/// conversation's totals) reads that conversation's entries instead of every entry the process ever recorded. Same
/// answers (every query still goes through <see cref="UsageQuery.Matches"/>); other queries scan everything as before.
/// </summary>
internal sealed class ConversationIndexedUsageLedger : IUsageLedger
{
    private readonly List<UsageEntry> _entries = [];
    private readonly Dictionary<string, List<UsageEntry>> _byConversation = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public ValueTask AppendAsync(UsageEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _entries.Add(entry);
            if (entry.ConversationKey is { } key)
            {
                if (!_byConversation.TryGetValue(key, out var list))
                {
                    _byConversation[key] = list = [];
                }

                list.Add(entry);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<UsageTotals> GetTotalsAsync(UsageQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        var totals = UsageTotals.Empty;
        lock (_gate)
        {
            IEnumerable<UsageEntry> candidates = query.ConversationKey is { } key
                ? _byConversation.GetValueOrDefault(key) ?? []
                : _entries;
            foreach (var entry in candidates)
            {
                if (query.Matches(entry))
                {
                    totals = totals.Add(entry);
                }
            }
        }

        return ValueTask.FromResult(totals);
    }
}
