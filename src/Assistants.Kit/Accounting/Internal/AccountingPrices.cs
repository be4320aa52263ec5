using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>The kit's price table with the "unknown model" warning logged once per model.</summary>
internal sealed class AccountingPrices(PriceTable table, ILogger<AccountingPrices> logger)
{
    private readonly ConcurrentDictionary<string, byte> _reportedUnknown = new(StringComparer.OrdinalIgnoreCase);

    public PriceTable Table { get; } = table;

    public ToolPrices Tools => Table.Tools;

    /// <summary>Finds a model's price; an unknown model is logged the first time only.</summary>
    public ModelPrice? Find(string? model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return null;
        }

        var price = Table.GetPrice(model);
        if (price is null && _reportedUnknown.TryAdd(model.Trim(), 0))
        {
            AccountingLog.UnknownModelPrice(logger, model.Trim());
        }

        return price;
    }
}

/// <summary>
/// Open code interpreter sessions by thread, in this process. A session covers
/// <c>[start, start + duration)</c>; a use inside it is free, a use outside opens a new, charged one.
/// </summary>
internal sealed class CodeInterpreterSessionTracker
{
    private readonly Dictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Records a use of code interpreter on a thread; returns whether it opens a new (charged) session.</summary>
    public bool TryOpenSession(string threadKey, DateTimeOffset usedAt, TimeSpan duration, DateTimeOffset now)
    {
        lock (_gate)
        {
            Prune(now, duration);
            if (_sessions.TryGetValue(threadKey, out var start) && usedAt > start - duration && usedAt < start + duration)
            {
                // Inside the open session, or (a run reported out of order) just before it: the session really began
                // at the earlier use, which was not charged separately.
                if (usedAt < start)
                {
                    _sessions[threadKey] = usedAt;
                }

                return false;
            }

            if (!_sessions.TryGetValue(threadKey, out start) || usedAt >= start)
            {
                _sessions[threadKey] = usedAt;
            }

            return true;
        }
    }

    private void Prune(DateTimeOffset now, TimeSpan duration)
    {
        if (_sessions.Count < 1024)
        {
            return;
        }

        foreach (var (key, start) in _sessions.ToArray())
        {
            if (start + duration + duration < now)
            {
                _sessions.Remove(key);
            }
        }
    }
}
