using StackExchange.Redis;

namespace Assistants.Kit;

/// <summary>Options of the Redis conversation store and usage ledger (<c>AddRedisStore</c>).</summary>
public sealed class RedisStoreOptions
{
    /// <summary>The default <see cref="KeyPrefix"/>: <c>assistants-kit:</c>.</summary>
    public const string DefaultKeyPrefix = "assistants-kit:";

    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string, e.g. <c>localhost:6379</c> or
    /// <c>redis.internal:6380,password=…,ssl=true,abortConnect=false</c>. The store connects on first use and keeps one
    /// multiplexer for the life of the service provider. Set this or <see cref="Multiplexer"/>, not both.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Gets or sets a multiplexer the application already has (e.g. the one it registered for its own caching). The
    /// store uses it and never closes it. Set this or <see cref="ConnectionString"/>, not both.
    /// </summary>
    public IConnectionMultiplexer? Multiplexer { get; set; }

    /// <summary>Gets or sets the database number; -1 (default) is the connection's default database.</summary>
    public int Database { get; set; } = -1;

    /// <summary>
    /// Gets or sets the prefix of every key the store writes (default <see cref="DefaultKeyPrefix"/>), so several apps
    /// or environments can share one server. Keys: <c>{prefix}binding:{protocol}:{conversation key}</c> (a hash with the
    /// version, the fencing token and the JSON binding), <c>{prefix}bindings:{protocol}</c> (the set of keys <c>ListAsync</c> reads) and
    /// <c>{prefix}assistant:{protocol}:{name}</c>; file ingestion records are the hash <c>{prefix}ingestion:{vector store name}</c>
    /// (a field per content SHA-256, never expiring); the usage ledger's keys start with <c>{prefix}usage:</c> (see
    /// <see cref="UseAsUsageLedger"/>), and conversation leases (<c>AddRedisLeases</c>) use <c>{prefix}lease:{key}</c> and
    /// <c>{prefix}fence:{key}</c> unless <see cref="RedisLeaseOptions.KeyPrefix"/> says otherwise. On Redis Cluster, put a hash tag in the prefix (e.g. <c>{assistants-kit}:</c>)
    /// so a binding and its index, and a ledger entry and its indexes, live in the same slot.
    /// </summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>
    /// Gets or sets how long a binding lives after its last save (a sliding expiry, renewed on every save);
    /// <see langword="null"/> (default) keeps bindings until they are deleted. Assistant records never expire.
    /// </summary>
    public TimeSpan? BindingTimeToLive { get; set; }

    /// <summary>
    /// Gets or sets whether the usage ledger on the same server becomes the kit's <see cref="IUsageLedger"/> (default
    /// <see langword="true"/>): entries are then appended to Redis and budgets and totals read them, so they survive
    /// restarts and are shared by every app instance with the same server and <see cref="KeyPrefix"/>. It replaces the
    /// in-memory default (and the ledger of a store package registered before), never a ledger the application
    /// registered itself with <c>UseUsageLedger</c> (or otherwise); <c>UseUsageLedger</c> called later replaces it. Set
    /// <see langword="false"/> to store only conversations here and keep the ledger the kit had.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Layout: each entry is a JSON document (decimals as strings) in the hash <c>{prefix}usage:entries</c> under an ID
    /// from <c>INCR {prefix}usage:seq</c>, and its ID is a member of sorted sets scored by the entry's time (whole
    /// microseconds since 1970 UTC): <c>{prefix}usage:by-time</c> (every entry), <c>by-kind:{kind}</c>,
    /// <c>by-key:{conversation key}</c>, <c>by-thread:{id}</c>, <c>by-run:{id}</c>, <c>by-assistant:{id}</c>,
    /// <c>by-model:{model}</c> and <c>by-model:{model without date suffix}</c> (ASCII letters upper-cased) and
    /// <c>by-tag:{name length}:{name}={value}</c>, all under <c>{prefix}usage:</c>. The hash
    /// <c>{prefix}usage:hour-generations</c> counts the changes (appends, prunes) of each hour (since 1970 UTC). One Lua
    /// script writes the document, every index and the generation, so an entry is stored whole or not at all.
    /// </para>
    /// <para>
    /// Totals read one index: of those the query's filters name, the one with the fewest entries in the window
    /// (<c>ZCOUNT</c>, O(log N) each). Its members in the window are read in pages of 1,000 (<c>ZRANGE … BYSCORE</c>
    /// and <c>HMGET</c>), and the documents are filtered by <see cref="UsageQuery.Matches"/> and added up in the app
    /// with <see cref="decimal"/> arithmetic, so results are exact and follow the reference semantics: O(log N + M) in
    /// Redis and M documents (about 300 bytes each) over the network, M being the entries of the chosen index in the
    /// window.
    /// </para>
    /// <para>
    /// Budgets ask the same question over and over (this day's or month's total of everything, of a conversation key
    /// or of a tag), so a windowed total with at most one filter over more than 500 entries uses hourly rollups
    /// instead: <c>{prefix}usage:rollup:{index}</c> holds, per hour that has ended, that hour's totals (decimals as
    /// text) and the hour's generation when they were computed. Only the partial hours at the window's ends, the
    /// current hour and hours whose rollup is missing or out of date (an entry was appended to or pruned from the hour
    /// since) are read from the documents; a month then costs two reads of 744 hash fields plus a few hours of
    /// documents. A rollup carries the generation read before its documents were, and generations only grow, so a rollup
    /// that missed a concurrent append is never used; a script stores it only while that generation is still current. Rollups are a cache: each hash expires 40 days after
    /// its last write and is recomputed when missing. Redis has no exact decimal arithmetic, so Redis never adds
    /// amounts itself; windows need not align to hours (their partial hours are read entry by entry).
    /// </para>
    /// <para>
    /// Limits: a window of everything with several filters, or without bounds, reads its documents (for example a
    /// query by conversation key alone, which the kit makes once per run, reads that conversation's entries). Strings
    /// are stored as UTF-8, so ill-formed UTF-16 (a lone surrogate) in a key, ID, model or tag reads back as U+FFFD.
    /// Delete the ledger's keys together (<c>{prefix}usage:*</c>), never <c>hour-generations</c> alone: rollups rely on
    /// generations only growing. Sums are exact while they fit in <see cref="decimal"/> (28 significant digits).
    /// </para>
    /// </remarks>
    public bool UseAsUsageLedger { get; set; } = true;

    /// <summary>
    /// Gets or sets how long ledger entries are kept, measured from their <see cref="UsageEntry.Timestamp"/> to the
    /// kit's clock; <see langword="null"/> (default) keeps them forever. Expired entries (and their index members) are
    /// deleted by the app instances that append: at most once a minute each, up to 1,000 entries at a time. Until then
    /// totals still count them. Keep it longer than the longest budget period (e.g. 62 days for monthly budgets).
    /// </summary>
    public TimeSpan? UsageRetention { get; set; }
}
