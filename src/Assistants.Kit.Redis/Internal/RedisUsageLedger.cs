using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Assistants.Kit.Redis.Internal;

/// <summary>
/// <see cref="IUsageLedger"/> on Redis: entry documents in one hash, indexed by sorted sets per dimension value scored
/// by time; totals read the smallest applicable index over the window and add the matching documents up exactly in the
/// app. The layout, complexity and limits are documented on <see cref="RedisStoreOptions.UseAsUsageLedger"/>.
/// </summary>
/// <remarks>
/// A total taken while other instances append counts each entry at most once; an entry appended during the read may or
/// may not be counted. StackExchange.Redis cannot cancel a command once sent: the token is checked between commands.
/// </remarks>
internal sealed partial class RedisUsageLedger : IUsageLedger
{
    /// <summary>How many index members a page of a total reads.</summary>
    internal const int PageSize = 1000;

    /// <summary>How many expired entries one prune deletes at most.</summary>
    internal const int PruneBatchSize = 1000;

    /// <summary>How often an instance looks for expired entries (when <see cref="RedisStoreOptions.UsageRetention"/> is set).</summary>
    internal static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);

    // KEYS[1] sequence, KEYS[2] entry hash, KEYS[3..] index sorted sets; ARGV[1] score, ARGV[2] entry document.
    // Returns the new entry's ID.
    private const string AppendScript = """
        local id = redis.call('INCR', KEYS[1])
        redis.call('HSET', KEYS[2], id, ARGV[2])
        for i = 3, #KEYS do
            redis.call('ZADD', KEYS[i], ARGV[1], id)
        end
        return id
        """;

    private static readonly long UnixEpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    private readonly RedisConnection _connection;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private int _pruning;
    private long _nextPruneTicks = long.MinValue;

    public RedisUsageLedger(RedisConnection connection, TimeProvider timeProvider, ILogger logger)
    {
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _prefix = connection.KeyPrefix + "usage:";
    }

    internal RedisKey SequenceKey => _prefix + "seq";

    internal RedisKey EntriesKey => _prefix + "entries";

    internal RedisKey TimeIndexKey => _prefix + "by-time";

    public async ValueTask AppendAsync(UsageEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        var document = JsonSerializer.Serialize(StoredUsageEntry.From(entry), RedisUsageJsonContext.Default.StoredUsageEntry);
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await database.ScriptEvaluateAsync(
            AppendScript,
            [SequenceKey, EntriesKey, .. IndexKeys(entry)],
            [Score(entry.Timestamp), document]).ConfigureAwait(false);

        if (_connection.UsageRetention is { } retention)
        {
            await PruneIfDueAsync(database, retention, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<UsageTotals> GetTotalsAsync(UsageQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        if (query.From is { } from && query.To is { } to && to <= from)
        {
            return UsageTotals.Empty;
        }

        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var min = query.From is { } f ? Score(f) : double.NegativeInfinity;

        // Entries before To have a score of at most Score(To) (scores are whole microseconds, rounded down); the
        // documents decide the exact bound.
        var max = query.To is { } t ? Score(t) : double.PositiveInfinity;
        var index = await ChooseIndexAsync(database, query, min, max).ConfigureAwait(false);

        var totals = UsageTotals.Empty;
        var seen = new HashSet<long>();
        var skip = 0L;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await database.SortedSetRangeByScoreWithScoresAsync(index, min, max, Exclude.None, Order.Ascending, skip, PageSize).ConfigureAwait(false);
            if (page.Length == 0)
            {
                break;
            }

            var ids = page.Where(e => seen.Add((long)e.Element)).Select(static e => e.Element).ToArray();
            if (ids.Length > 0)
            {
                var documents = await database.HashGetAsync(EntriesKey, ids).ConfigureAwait(false);
                foreach (var document in documents)
                {
                    // An entry pruned (expired) since its ID was read is no longer counted.
                    if (!document.IsNull && Read(document) is { } entry && query.Matches(entry))
                    {
                        totals = totals.Add(entry);
                    }
                }
            }

            if (page.Length < PageSize)
            {
                break;
            }

            // Continue from the last score read, skipping the members at that score already read (members of one score
            // are ordered by ID text): appends meanwhile can then only repeat an ID (counted once), never hide one.
            var last = page[^1].Score;
            var atLast = page.Count(e => e.Score == last);
            skip = last == min ? skip + atLast : atLast;
            min = last;
        }

        return totals;
    }

    /// <summary>Gets the index keys an entry is added to.</summary>
    internal List<RedisKey> IndexKeys(UsageEntry entry)
    {
        var keys = new List<RedisKey> { TimeIndexKey, KindIndexKey(entry.Kind) };
        AddIfSet(keys, "by-key:", entry.ConversationKey);
        AddIfSet(keys, "by-thread:", entry.ThreadId);
        AddIfSet(keys, "by-run:", entry.RunId);
        AddIfSet(keys, "by-assistant:", entry.AssistantId);
        if (entry.Model is { } model)
        {
            var fold = UsageModelFold.Fold(model);
            var family = UsageModelFold.FoldFamily(model)!;
            keys.Add(ModelIndexKey(fold));
            if (!string.Equals(fold, family, StringComparison.Ordinal))
            {
                keys.Add(ModelIndexKey(family));
            }
        }

        foreach (var (name, value) in entry.Tags ?? UsageEntryTags.Empty)
        {
            keys.Add(TagIndexKey(name, value));
        }

        return keys;

        void AddIfSet(List<RedisKey> list, string dimension, string? value)
        {
            if (value is not null)
            {
                list.Add(_prefix + dimension + value);
            }
        }
    }

    /// <summary>Gets the indexes a query could read; every entry it matches is in each of them.</summary>
    internal List<RedisKey> CandidateIndexes(UsageQuery query)
    {
        var keys = new List<RedisKey>();
        if (query.RunId is { } run)
        {
            keys.Add(_prefix + "by-run:" + run);
        }

        if (query.ThreadId is { } thread)
        {
            keys.Add(_prefix + "by-thread:" + thread);
        }

        if (query.ConversationKey is { } key)
        {
            keys.Add(_prefix + "by-key:" + key);
        }

        if (query.AssistantId is { } assistant)
        {
            keys.Add(_prefix + "by-assistant:" + assistant);
        }

        foreach (var (name, value) in query.Tags ?? UsageEntryTags.Empty)
        {
            keys.Add(TagIndexKey(name, value));
        }

        // Only an ASCII query model has an index (see UsageModelFold); any other is decided by the documents alone.
        if (query.Model is { } model && UsageModelFold.IsFoldable(model))
        {
            keys.Add(ModelIndexKey(UsageModelFold.Fold(model)));
        }

        if (query.Kind is { } kind)
        {
            keys.Add(KindIndexKey(kind));
        }

        if (keys.Count == 0)
        {
            keys.Add(TimeIndexKey);
        }

        return keys;
    }

    /// <summary>
    /// Gets an instant as a sorted-set score: whole microseconds since 1970 UTC, rounded down (exact as a double for
    /// about 285 years either side of 1970; beyond, the rounding to a double still keeps the order, which is all a range
    /// read needs, since the documents decide the exact bounds).
    /// </summary>
    internal static double Score(DateTimeOffset instant)
    {
        var ticks = instant.UtcTicks - UnixEpochTicks;
        var micros = ticks >= 0 ? ticks / TimeSpan.TicksPerMicrosecond : -((-ticks + TimeSpan.TicksPerMicrosecond - 1) / TimeSpan.TicksPerMicrosecond);
        return micros;
    }

    /// <summary>Deletes entries older than the retention, when this instance has not looked for a minute.</summary>
    internal async Task<long> PruneIfDueAsync(IDatabase database, TimeSpan retention, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        if (now.UtcTicks < Interlocked.Read(ref _nextPruneTicks) || Interlocked.CompareExchange(ref _pruning, 1, 0) != 0)
        {
            return 0;
        }

        try
        {
            var cutoff = now - retention;
            var expired = await database.SortedSetRangeByScoreAsync(
                TimeIndexKey, double.NegativeInfinity, Score(cutoff), Exclude.Stop, Order.Ascending, 0, PruneBatchSize).ConfigureAwait(false);
            if (expired.Length > 0)
            {
                var documents = await database.HashGetAsync(EntriesKey, expired).ConfigureAwait(false);
                var deletes = new List<Task>();
                for (var i = 0; i < expired.Length; i++)
                {
                    if (!documents[i].IsNull && Read(documents[i]) is { } entry)
                    {
                        foreach (var key in IndexKeys(entry))
                        {
                            if (key != TimeIndexKey)
                            {
                                deletes.Add(database.SortedSetRemoveAsync(key, expired[i]));
                            }
                        }
                    }
                }

                // Dimension indexes first, then the documents, then the time index that finds them: an interrupted
                // prune is finished by the next one.
                await Task.WhenAll(deletes).ConfigureAwait(false);
                await database.HashDeleteAsync(EntriesKey, expired).ConfigureAwait(false);
                await database.SortedSetRemoveAsync(TimeIndexKey, expired).ConfigureAwait(false);
                Log.Pruned(_logger, expired.Length, cutoff);
            }

            // A full batch means there may be more: look again at the next append.
            Interlocked.Exchange(ref _nextPruneTicks, expired.Length == PruneBatchSize ? now.UtcTicks : (now + PruneInterval).UtcTicks);
            return expired.Length;
        }
        finally
        {
            Volatile.Write(ref _pruning, 0);
        }
    }

    private async Task<RedisKey> ChooseIndexAsync(IDatabase database, UsageQuery query, double min, double max)
    {
        var candidates = CandidateIndexes(query);
        if (candidates.Count == 1)
        {
            return candidates[0];
        }

        // Issued together (pipelined): the index with the fewest entries in the window is read.
        var counts = await Task.WhenAll(candidates.Select(key => database.SortedSetLengthAsync(key, min, max))).ConfigureAwait(false);
        var best = 0;
        for (var i = 1; i < counts.Length; i++)
        {
            if (counts[i] < counts[best])
            {
                best = i;
            }
        }

        return candidates[best];
    }

    private RedisKey KindIndexKey(UsageEntryKind kind) => _prefix + "by-kind:" + kind.ToString();

    private RedisKey ModelIndexKey(string fold) => _prefix + "by-model:" + fold;

    // The name's length makes the key unambiguous whatever characters the name and value hold.
    private RedisKey TagIndexKey(string name, string value) =>
        string.Create(CultureInfo.InvariantCulture, $"{_prefix}by-tag:{name.Length}:{name}={value}");

    private static UsageEntry? Read(RedisValue document) =>
        JsonSerializer.Deserialize((string)document!, RedisUsageJsonContext.Default.StoredUsageEntry)?.ToEntry();

    private static partial class Log
    {
        [LoggerMessage(3110, LogLevel.Information, "Redis usage ledger: deleted {Count} entries recorded before {Cutoff:O} (retention).")]
        public static partial void Pruned(ILogger logger, int count, DateTimeOffset cutoff);
    }
}
