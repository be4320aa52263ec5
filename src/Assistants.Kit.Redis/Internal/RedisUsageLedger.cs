using Assistants.Kit.Conversations.Internal.Stores;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Assistants.Kit.Redis.Internal;

/// <summary>
/// <see cref="IUsageLedger"/> on Redis: entry documents in one hash, indexed by sorted sets per dimension value scored
/// by time; totals read the smallest applicable index over the window and add the matching documents up exactly in the
/// app. Windowed totals of one dimension (or of everything) over a busy index also use hourly rollups: a cache of each
/// closed hour's totals, valid while the hour's generation (incremented by every append and prune in that hour) is the
/// one it was computed at. The layout, complexity and limits are documented on
/// <see cref="RedisStoreOptions.UseAsUsageLedger"/>.
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

    /// <summary>How many hours of rollups one round trip reads.</summary>
    internal const int RollupChunkHours = 1000;

    /// <summary>How often an instance looks for expired entries (when <see cref="RedisStoreOptions.UsageRetention"/> is set).</summary>
    internal static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);

    /// <summary>How long a rollup hash lives after its last write (it is a cache: anything missing is recomputed).</summary>
    internal static readonly TimeSpan RollupTimeToLive = TimeSpan.FromDays(40);

    private const long MicrosPerHour = 3_600_000_000;

    // Scores (microseconds) below this are exact doubles, so hour boundaries split them exactly (years 1685 to 2255).
    private const double MaxExactScore = 1L << 52;

    // KEYS[1] sequence, KEYS[2] entry hash, KEYS[3] hour generations, KEYS[4..] index sorted sets; ARGV[1] score,
    // ARGV[2] entry document, ARGV[3] hour. Returns the new entry's ID.
    private const string AppendScript = """
        local id = redis.call('INCR', KEYS[1])
        redis.call('HSET', KEYS[2], id, ARGV[2])
        redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
        for i = 4, #KEYS do
            redis.call('ZADD', KEYS[i], ARGV[1], id)
        end
        return id
        """;

    // KEYS[1] hour generations, KEYS[2] rollup hash; ARGV[1] expiry in milliseconds, then triples (hour, generation the
    // rollup was computed at, rollup). A rollup is stored only if its hour's generation is still that one. Returns how
    // many were stored.
    private const string StoreRollupsScript = """
        local stored = 0
        for i = 2, #ARGV, 3 do
            if (redis.call('HGET', KEYS[1], ARGV[i]) or '0') == ARGV[i + 1] then
                redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
                stored = stored + 1
            end
        end
        if stored > 0 then
            redis.call('PEXPIRE', KEYS[2], ARGV[1])
        end
        return stored
        """;

    private static readonly long UnixEpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    private readonly RedisConnection _connection;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private int _pruning;
    private long _nextPruneTicks = long.MinValue;
    private long _documentsRead;

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

    internal RedisKey HourGenerationsKey => _prefix + "hour-generations";

    /// <summary>
    /// Gets or sets how many entries of one index a window must hold before its total uses hourly rollups; below, the
    /// documents are read (cheaper than the rollups' hours). Settable for tests.
    /// </summary>
    internal long RollupThreshold { get; init; } = 500;

    /// <summary>Gets how many entry documents totals have read (for tests).</summary>
    internal long DocumentsRead => Interlocked.Read(ref _documentsRead);

    public async ValueTask AppendAsync(UsageEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        var document = JsonSerializer.Serialize(StoredUsageEntry.From(entry), RedisUsageJsonContext.Default.StoredUsageEntry);
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await database.ScriptEvaluateAsync(
            AppendScript,
            [SequenceKey, EntriesKey, HourGenerationsKey, .. IndexKeys(entry)],
            [Score(entry.Timestamp), document, HourOf(entry.Timestamp)]).ConfigureAwait(false);

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
        var (candidates, exact) = CandidateIndexes(query);
        var rollable = exact && query.From is { } windowStart && query.To is { } windowEnd
            && CeilingHour(windowStart) < HourOf(windowEnd) && Math.Abs(min) < MaxExactScore && Math.Abs(max) < MaxExactScore;
        var index = candidates[0];
        if (candidates.Count > 1 || rollable)
        {
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

            index = candidates[best];
            if (rollable && counts[best] > RollupThreshold)
            {
                return await RolledUpTotalsAsync(database, index, query, CeilingHour(query.From!.Value), HourOf(query.To!.Value), cancellationToken).ConfigureAwait(false);
            }
        }

        var totals = UsageTotals.Empty;
        await ReadAsync(database, index, min, max, Exclude.None, entry =>
        {
            if (query.Matches(entry))
            {
                totals = totals.Add(entry);
            }
        }, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Gets the indexes a query could read (every entry it matches is in each of them), and whether the one index holds
    /// exactly the entries that match the query's filters other than the window (a query with one filter, or none).
    /// </summary>
    internal (List<RedisKey> Keys, bool Exact) CandidateIndexes(UsageQuery query)
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

        var filters = (query.RunId is null ? 0 : 1) + (query.ThreadId is null ? 0 : 1) + (query.ConversationKey is null ? 0 : 1)
            + (query.AssistantId is null ? 0 : 1) + (query.Tags?.Count ?? 0) + (query.Model is null ? 0 : 1) + (query.Kind is null ? 0 : 1);
        if (keys.Count == 0)
        {
            keys.Add(TimeIndexKey);
            return (keys, filters == 0);
        }

        return (keys, filters == 1);
    }

    /// <summary>
    /// Gets an instant as a sorted-set score: whole microseconds since 1970 UTC, rounded down (exact as a double for
    /// about 285 years either side of 1970; beyond, the rounding to a double still keeps the order, which is all a range
    /// read needs, since the documents decide the exact bounds).
    /// </summary>
    internal static double Score(DateTimeOffset instant)
    {
        return FloorDivide(instant.UtcTicks - UnixEpochTicks, TimeSpan.TicksPerMicrosecond);
    }

    /// <summary>Gets the hour (since 1970 UTC, rounded down) an instant is in.</summary>
    internal static long HourOf(DateTimeOffset instant) => FloorDivide(instant.UtcTicks - UnixEpochTicks, TimeSpan.TicksPerHour);

    /// <summary>Gets the first hour that starts at or after an instant.</summary>
    internal static long CeilingHour(DateTimeOffset instant) => -FloorDivide(UnixEpochTicks - instant.UtcTicks, TimeSpan.TicksPerHour);

    /// <summary>Gets the score of the first instant of an hour.</summary>
    internal static double HourScore(long hour) => hour * (double)MicrosPerHour;

    /// <summary>Gets the rollup hash of an index.</summary>
    internal RedisKey RollupKey(RedisKey index) => _prefix + "rollup:" + ((string)index!)[_prefix.Length..];

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
            var found = await database.SortedSetRangeByScoreWithScoresAsync(
                TimeIndexKey, double.NegativeInfinity, Score(cutoff), Exclude.Stop, Order.Ascending, 0, PruneBatchSize).ConfigureAwait(false);
            var expired = found.Select(static e => e.Element).ToArray();
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

                // Last, once the entries are gone: rollups of their hours (which may count them) stop being valid.
                var hours = found.Select(static e => (long)Math.Floor(e.Score / MicrosPerHour)).Distinct();
                await Task.WhenAll(hours.Select(hour => database.HashIncrementAsync(HourGenerationsKey, hour))).ConfigureAwait(false);
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

    /// <summary>
    /// Totals of a window of one exact index with at least one whole hour: the partial hours at either end from the
    /// documents, the whole hours from their rollups where valid, and from the documents (then stored as rollups, when
    /// the hour has ended) where not.
    /// </summary>
    private async Task<UsageTotals> RolledUpTotalsAsync(
        IDatabase database, RedisKey index, UsageQuery query, long firstHour, long endHour, CancellationToken cancellationToken)
    {
        var totals = UsageTotals.Empty;
        void AddMatching(UsageEntry entry)
        {
            if (query.Matches(entry))
            {
                totals = totals.Add(entry);
            }
        }

        await ReadAsync(database, index, Score(query.From!.Value), HourScore(firstHour), Exclude.Stop, AddMatching, cancellationToken).ConfigureAwait(false);
        await ReadAsync(database, index, HourScore(endHour), Score(query.To!.Value), Exclude.None, AddMatching, cancellationToken).ConfigureAwait(false);

        var filter = query with { From = null, To = null };
        var rollupKey = RollupKey(index);
        var ended = HourOf(_timeProvider.GetUtcNow());
        for (var chunkStart = firstHour; chunkStart < endHour; chunkStart += RollupChunkHours)
        {
            var start = chunkStart;
            var hours = (int)Math.Min(RollupChunkHours, endHour - start);
            var fields = Enumerable.Range(0, hours).Select(i => (RedisValue)(start + i)).ToArray();

            // The generations are read before any document and a rollup is tagged with the one read: generations only
            // grow, so a rollup that missed an append (or a prune) never matches its hour's generation again and is
            // recomputed. Storing it only while the generation is unchanged keeps an outdated computation from
            // replacing a current rollup.
            var generationsRead = database.HashGetAsync(HourGenerationsKey, fields);
            var rollupsRead = database.HashGetAsync(rollupKey, fields);
            var generations = await generationsRead.ConfigureAwait(false);
            var rollups = await rollupsRead.ConfigureAwait(false);
            var stale = new List<(long Hour, long Generation)>();
            for (var i = 0; i < hours; i++)
            {
                var generation = generations[i].IsNull ? 0 : (long)generations[i];
                if (TryDecodeRollup(rollups[i], out var rolledGeneration, out var rolled) && rolledGeneration == generation)
                {
                    totals = Sum(totals, rolled);
                }
                else
                {
                    stale.Add((start + i, generation));
                }
            }

            var store = new List<RedisValue> { (long)RollupTimeToLive.TotalMilliseconds };
            for (var runStart = 0; runStart < stale.Count;)
            {
                var runEnd = runStart + 1;
                while (runEnd < stale.Count && stale[runEnd].Hour == stale[runEnd - 1].Hour + 1)
                {
                    runEnd++;
                }

                var byHour = new Dictionary<long, UsageTotals>();
                await ReadAsync(database, index, HourScore(stale[runStart].Hour), HourScore(stale[runEnd - 1].Hour + 1), Exclude.Stop, entry =>
                {
                    if (filter.Matches(entry))
                    {
                        var hour = HourOf(entry.Timestamp);
                        byHour[hour] = (byHour.TryGetValue(hour, out var sum) ? sum : UsageTotals.Empty).Add(entry);
                    }
                }, cancellationToken).ConfigureAwait(false);

                for (var i = runStart; i < runEnd; i++)
                {
                    var (hour, generation) = stale[i];
                    var hourTotals = byHour.TryGetValue(hour, out var sum) ? sum : UsageTotals.Empty;
                    totals = Sum(totals, hourTotals);
                    if (hour < ended)
                    {
                        store.AddRange([hour, generation, EncodeRollup(generation, hourTotals)]);
                    }
                }

                runStart = runEnd;
            }

            if (store.Count > 1)
            {
                await database.ScriptEvaluateAsync(StoreRollupsScript, [HourGenerationsKey, rollupKey], [.. store]).ConfigureAwait(false);
            }
        }

        return totals;
    }

    /// <summary>
    /// Reads the documents of an index's members in a score range, in pages, each member once, and hands each entry to
    /// <paramref name="onEntry"/>.
    /// </summary>
    private async Task ReadAsync(
        IDatabase database, RedisKey index, double min, double max, Exclude exclude, Action<UsageEntry> onEntry, CancellationToken cancellationToken)
    {
        var seen = new HashSet<long>();
        var skip = 0L;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await database.SortedSetRangeByScoreWithScoresAsync(index, min, max, exclude, Order.Ascending, skip, PageSize).ConfigureAwait(false);
            if (page.Length == 0)
            {
                return;
            }

            var ids = page.Where(e => seen.Add((long)e.Element)).Select(static e => e.Element).ToArray();
            if (ids.Length > 0)
            {
                var documents = await database.HashGetAsync(EntriesKey, ids).ConfigureAwait(false);
                Interlocked.Add(ref _documentsRead, documents.Length);
                foreach (var document in documents)
                {
                    // An entry pruned (expired) since its ID was read is no longer counted.
                    if (!document.IsNull && Read(document) is { } entry)
                    {
                        onEntry(entry);
                    }
                }
            }

            if (page.Length < PageSize)
            {
                return;
            }

            // Continue from the last score read, skipping the members at that score already read (members of one score
            // are ordered by ID text): appends meanwhile can then only repeat an ID (read once), never hide one.
            var last = page[^1].Score;
            var atLast = page.Count(e => e.Score == last);
            skip = last == min ? skip + atLast : atLast;
            min = last;
        }
    }

    private static UsageTotals Sum(UsageTotals a, UsageTotals b) => new()
    {
        Entries = a.Entries + b.Entries,
        Usage = a.Usage + b.Usage,
        Cost = a.Cost + b.Cost,
        UnpricedEntries = a.UnpricedEntries + b.UnpricedEntries,
        CodeInterpreterSessions = a.CodeInterpreterSessions + b.CodeInterpreterSessions,
        FileSearchCalls = a.FileSearchCalls + b.FileSearchCalls,
        VectorStorageGigabyteDays = a.VectorStorageGigabyteDays + b.VectorStorageGigabyteDays,
    };

    // generation|entries|input|output|cached input|reasoning|cost|unpriced|code interpreter|file search|GB-days
    private static string EncodeRollup(long generation, UsageTotals t) => string.Join(
        '|',
        generation.ToString(CultureInfo.InvariantCulture),
        t.Entries.ToString(CultureInfo.InvariantCulture),
        t.Usage.InputTokens.ToString(CultureInfo.InvariantCulture),
        t.Usage.OutputTokens.ToString(CultureInfo.InvariantCulture),
        t.Usage.CachedInputTokens.ToString(CultureInfo.InvariantCulture),
        t.Usage.ReasoningTokens.ToString(CultureInfo.InvariantCulture),
        t.Cost.ToString(CultureInfo.InvariantCulture),
        t.UnpricedEntries.ToString(CultureInfo.InvariantCulture),
        t.CodeInterpreterSessions.ToString(CultureInfo.InvariantCulture),
        t.FileSearchCalls.ToString(CultureInfo.InvariantCulture),
        t.VectorStorageGigabyteDays.ToString(CultureInfo.InvariantCulture));

    private static bool TryDecodeRollup(RedisValue value, out long generation, out UsageTotals totals)
    {
        generation = 0;
        totals = UsageTotals.Empty;
        if (value.IsNull)
        {
            return false;
        }

        var parts = ((string)value!).Split('|');
        if (parts.Length != 11)
        {
            return false;
        }

        generation = long.Parse(parts[0], CultureInfo.InvariantCulture);
        totals = new UsageTotals
        {
            Entries = long.Parse(parts[1], CultureInfo.InvariantCulture),
            Usage = new TokenUsage(
                long.Parse(parts[2], CultureInfo.InvariantCulture),
                long.Parse(parts[3], CultureInfo.InvariantCulture),
                long.Parse(parts[4], CultureInfo.InvariantCulture),
                long.Parse(parts[5], CultureInfo.InvariantCulture)),
            Cost = decimal.Parse(parts[6], NumberStyles.Float, CultureInfo.InvariantCulture),
            UnpricedEntries = long.Parse(parts[7], CultureInfo.InvariantCulture),
            CodeInterpreterSessions = long.Parse(parts[8], CultureInfo.InvariantCulture),
            FileSearchCalls = long.Parse(parts[9], CultureInfo.InvariantCulture),
            VectorStorageGigabyteDays = decimal.Parse(parts[10], NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return true;
    }

    private static long FloorDivide(long value, long divisor) =>
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor);

    private RedisKey KindIndexKey(UsageEntryKind kind) => _prefix + "by-kind:" + kind.ToString();

    private RedisKey ModelIndexKey(string fold) => _prefix + "by-model:" + fold;

    // The name's length makes the key unambiguous whatever characters the name and value hold.
    private RedisKey TagIndexKey(string name, string value) =>
        string.Create(CultureInfo.InvariantCulture, $"{_prefix}by-tag:{name.Length}:{name}={value}");

    private static UsageEntry? Read(RedisValue document) =>
        JsonSerializer.Deserialize((string)document!, RedisUsageJsonContext.Default.StoredUsageEntry)?.ToEntry();

    /// <summary>The Redis store's log messages (event IDs 6100–6199).</summary>
    private static partial class Log
    {
        [LoggerMessage(6110, LogLevel.Information, "Redis usage ledger: deleted {Count} entries recorded before {Cutoff:O} (retention).")]
        public static partial void Pruned(ILogger logger, int count, DateTimeOffset cutoff);
    }
}
