using Assistants.Kit.Internal;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>
/// Accrues vector storage between <c>usage_bytes</c> reports: each report records the GB-days of the previous size
/// since the previous report. Report on create, after files are added or removed, periodically, and on delete
/// (<see cref="StopTrackingAsync"/>). Snapshots live in this process.
/// </summary>
internal sealed class VectorStorageAccounting(
    AccountingPrices prices,
    IUsageLedger ledger,
    ILogger<VectorStorageAccounting> logger,
    TimeProvider? timeProvider = null) : IVectorStorageAccounting
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Dictionary<string, Snapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public async ValueTask ReportUsageAsync(
        string vectorStoreId,
        long usageBytes,
        string? conversationKey,
        IReadOnlyDictionary<string, string>? tags,
        CancellationToken cancellationToken)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        var now = _time.GetUtcNow();
        var next = new Snapshot(Math.Max(usageBytes, 0), now, conversationKey, tags is null || tags.Count == 0 ? UsageEntry.EmptyTags : new Dictionary<string, string>(tags, StringComparer.Ordinal).AsReadOnly());
        Snapshot? previous;
        lock (_gate)
        {
            _snapshots.TryGetValue(vectorStoreId, out previous);
            _snapshots[vectorStoreId] = next;
        }

        if (previous is not null)
        {
            await AccrueAsync(vectorStoreId, previous, now, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask StopTrackingAsync(string vectorStoreId, CancellationToken cancellationToken)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        Snapshot? previous;
        lock (_gate)
        {
            _snapshots.Remove(vectorStoreId, out previous);
        }

        if (previous is not null)
        {
            await AccrueAsync(vectorStoreId, previous, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask AccrueAsync(string vectorStoreId, Snapshot previous, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var gigabyteDays = ToolPrices.GigabyteDays(previous.UsageBytes, now - previous.Since);
        if (gigabyteDays <= 0)
        {
            return;
        }

        var cost = prices.Tools.VectorStorageCost(gigabyteDays);
        await ledger.AppendAsync(
            new UsageEntry
            {
                Timestamp = now,
                Kind = UsageEntryKind.VectorStorage,
                ConversationKey = previous.ConversationKey,
                Tags = previous.Tags,
                TokenCost = 0m,
                ToolCost = cost,
                VectorStoreId = vectorStoreId,
                VectorStorageGigabyteDays = gigabyteDays,
            },
            cancellationToken).ConfigureAwait(false);
        AccountingLog.VectorStorageAccrued(logger, vectorStoreId, gigabyteDays, cost);
    }

    private sealed record Snapshot(long UsageBytes, DateTimeOffset Since, string? ConversationKey, IReadOnlyDictionary<string, string> Tags);
}
