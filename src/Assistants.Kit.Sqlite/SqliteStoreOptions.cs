namespace Assistants.Kit;

/// <summary>Options of the SQLite conversation store and usage ledger (<c>AddSqliteStore</c>).</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The default <see cref="BusyTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the path of the database file (a relative path is resolved against the current directory when the
    /// store is created). The file and its folder are created on first use when missing. Several processes on the same
    /// machine may share the file; a network file system may not support the WAL mode the store sets. Required.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// Gets or sets how long an operation waits for another connection or process that holds the write lock before it
    /// fails with a "database is locked" <see cref="Microsoft.Data.Sqlite.SqliteException"/>. Default
    /// <see cref="DefaultBusyTimeout"/>; between 0 and 1 hour.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = DefaultBusyTimeout;

    /// <summary>
    /// Gets or sets whether the usage ledger in the same file becomes the kit's <see cref="IUsageLedger"/> (default
    /// <see langword="true"/>): entries are then appended to the <c>assistants_kit_usage</c> table and budgets and totals
    /// read it, so they survive restarts and are shared by every process using the file. It replaces the in-memory
    /// default (and the ledger of a store package registered before), never a ledger the application registered itself
    /// with <c>UseUsageLedger</c> (or otherwise); <c>UseUsageLedger</c> called later replaces it. Set
    /// <see langword="false"/> to store only conversations here and keep the ledger the kit had.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Layout (schema version 2, migrated on first use like the rest of the file): <c>assistants_kit_usage</c> holds one
    /// row per entry, never updated, with a column per <see cref="UsageEntry"/> field. The instant is stored as UTC ticks
    /// (what windows compare, exactly) and as round-trip text with its offset. Amounts (token cost, tool cost,
    /// gigabyte-days) are <see cref="decimal"/> values as invariant-culture TEXT, never REAL, so every digit is kept;
    /// an unpriced entry's token cost is NULL. Tags are rows of <c>assistants_kit_usage_tags</c> (entry, name, value)
    /// with an index on (name, value, entry), so each tag of a query is one index lookup. The time, and the conversation
    /// key, thread, run, assistant and model (as is, and without its date suffix, ASCII letters upper-cased for
    /// case-insensitive matching) each with the time, are indexed.
    /// </para>
    /// <para>
    /// An append is one immediate transaction (the entry's row and its tags): all or nothing, and safe with other
    /// connections and processes on the file (WAL, <see cref="BusyTimeout"/>). A total is one parameterised aggregate
    /// statement with a condition per filter of the <see cref="UsageQuery"/>: SQLite sums the counters and a
    /// <see cref="decimal"/> aggregate the package registers sums the amounts exactly. It reads, through an index, the
    /// rows of the window for the most selective filter: O(log N + M) in process, with no network, so a month of
    /// everything (a global budget) costs a scan of that month's rows in the time index.
    /// </para>
    /// <para>
    /// Limits: entries are kept until deleted (with SQL: the rows of both tables whose <c>timestamp_ticks</c> is older
    /// than wanted). Strings are stored as UTF-8, so ill-formed UTF-16 (a lone surrogate) in a key, ID, model or tag
    /// reads back as U+FFFD. Sums are exact while they fit in <see cref="decimal"/> (28 significant digits).
    /// </para>
    /// </remarks>
    public bool UseAsUsageLedger { get; set; } = true;
}
